//! Who may reach a practice's data: the register's tenancy checks in one place (DESIGN §5; 001
//! §1.3c). Each check takes the caller's typed binding and the typed identifiers of the path, and
//! answers with the problem the rule prescribes: a resource of another tenant is 404, because its
//! existence is itself private; a caller that may know it exists but not act on it is 403.
//!
//! Checks that only make sense within one feature (who may change an intervision group) stay in
//! that feature; no feature reaches into another feature's routes for access.

use diesel_async::AsyncPgConnection;
use praktijkregister_domain::{ClientRole, EpdVendorId, OefentherapieAgb, UzoviCode};
use praktijkregister_platform::auth::{Binding, Principal, Scope};
use praktijkregister_platform::denials;
use praktijkregister_platform::error::ApiError;

use crate::problems::Problems as _;
use crate::scopes;

/// The practice a practice client acts for; `None` for every other caller (the registrar and the
/// services act for the register as a whole, vendors and insurers for themselves).
pub fn own_practice(principal: &Principal) -> Option<&OefentherapieAgb> {
    match &principal.binding {
        Binding::Practice(agb) => Some(agb),
        Binding::None | Binding::EpdVendor(_) | Binding::Insurer(_) | Binding::Visitor(_) => None,
    }
}

/// 404 for `kind` `id` of another tenant (its existence is private), with the refusal noted for
/// the audit trail as the `Principal` helpers note theirs (DESIGN §5, NEN 7513): for refusals
/// decided on stored data rather than on the caller's binding alone.
pub fn hidden(
    principal: &Principal,
    subject_type: &'static str,
    id: &str,
    kind: &'static str,
) -> ApiError {
    denials::note(principal, subject_type, id, kind, "other_tenant");
    ApiError::not_found(kind, id)
}

/// Requires `scope` and that the practice `agb` exists and is visible to the caller: unbound
/// callers see every practice, a practice client only itself; any other practice, and any practice
/// for a caller bound otherwise, is 404 (DESIGN §5).
pub async fn require_existing_practice(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    scope: Scope,
    agb: &OefentherapieAgb,
) -> Result<(), ApiError> {
    principal.require_practice(scope, agb.as_str())?;
    require_exists(conn, agb).await
}

/// 404 unless the practice `agb` is registered.
pub async fn require_exists(
    conn: &mut AsyncPgConnection,
    agb: &OefentherapieAgb,
) -> Result<(), ApiError> {
    if crate::practices::repository::exists(conn, agb.as_str()).await? {
        Ok(())
    } else {
        Err(ApiError::practice_not_found(agb))
    }
}

/// Who writes practice data (monthly deliveries, PREM results) for a practice (DESIGN §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataWriter {
    /// The registrar, for any practice.
    Registrar,
    /// An EPD vendor the practice authorised.
    Vendor(EpdVendorId),
    /// An EPD vendor the practice has not authorised (or no longer does).
    UnauthorisedVendor(EpdVendorId),
}

impl DataWriter {
    /// The vendor a write is stored under; `None` for the registrar.
    pub fn vendor(&self) -> Option<&EpdVendorId> {
        match self {
            Self::Registrar => None,
            Self::Vendor(vendor) | Self::UnauthorisedVendor(vendor) => Some(vendor),
        }
    }

    /// The 403 for a vendor without the practice's authorisation.
    pub fn refusal(&self, practice: &OefentherapieAgb) -> Option<ApiError> {
        match self {
            Self::UnauthorisedVendor(vendor) => Some(ApiError::Forbidden(format!(
                "EPD vendor {vendor} has no authorisation of practice {practice}; the practice \
                 grants one at /v1/practices/{practice}/epd-authorizations/{vendor}"
            ))),
            Self::Registrar | Self::Vendor(_) => None,
        }
    }
}

/// Who may write practice data with `scope`, decided before anything is read: the registrar
/// (`None`) or an EPD vendor (its id). Any other caller is 403, so that a practice cannot deliver
/// its own figures (DESIGN §5).
pub fn writer_identity(
    principal: &Principal,
    scope: Scope,
) -> Result<Option<EpdVendorId>, ApiError> {
    principal.require(scope)?;
    match &principal.binding {
        // Services are unbound too, but do not write practice data.
        Binding::None if principal.role == ClientRole::Registrar => Ok(None),
        Binding::EpdVendor(vendor) => Ok(Some(vendor.clone())),
        Binding::None | Binding::Practice(_) | Binding::Insurer(_) | Binding::Visitor(_) => {
            Err(ApiError::Forbidden(
                "practice data is delivered by an EPD vendor the practice authorised, or by the \
                 registrar"
                    .into(),
            ))
        }
    }
}

/// In the write's transaction: the practice must exist (404), and a vendor's authorisation is
/// held until the write is done, so that a revocation waits for it. An unauthorised vendor is
/// answered as such, so that the caller can audit the refusal before answering 403.
pub async fn data_writer(
    conn: &mut AsyncPgConnection,
    practice: &OefentherapieAgb,
    vendor: Option<&EpdVendorId>,
) -> Result<DataWriter, ApiError> {
    require_exists(conn, practice).await?;
    let authorised = match vendor {
        Some(vendor) => crate::epd::repository::hold_authorization(conn, practice, vendor).await?,
        None => false,
    };
    DataWriter::standing(practice, vendor, true, authorised)
}

impl DataWriter {
    /// The writer of a practice's data, from what its transaction read: whether the practice
    /// exists (404 if not) and whether `vendor` holds its authorisation.
    pub fn standing(
        practice: &OefentherapieAgb,
        vendor: Option<&EpdVendorId>,
        practice_exists: bool,
        vendor_authorised: bool,
    ) -> Result<Self, ApiError> {
        if !practice_exists {
            return Err(ApiError::practice_not_found(practice));
        }
        Ok(match vendor {
            None => Self::Registrar,
            Some(vendor) if vendor_authorised => Self::Vendor(vendor.clone()),
            Some(vendor) => Self::UnauthorisedVendor(vendor.clone()),
        })
    }
}

/// Who may read a practice's data (scope `deliveries:read`): the unbound callers, the practice
/// itself (another practice's is 404), or an EPD vendor the practice authorised (403 otherwise:
/// the vendor knows the practices it delivers for). The practice must exist (404).
pub async fn require_reader(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    practice: &OefentherapieAgb,
) -> Result<(), ApiError> {
    principal.require(scopes::DELIVERIES_READ)?;
    match &principal.binding {
        Binding::EpdVendor(vendor) => {
            if !crate::epd::repository::is_authorized(conn, practice, vendor).await? {
                return Err(ApiError::Forbidden(format!(
                    "the EPD vendor has no authorisation of practice {practice}"
                )));
            }
        }
        Binding::None => {}
        Binding::Practice(own) if own == practice => {}
        Binding::Practice(_) | Binding::Insurer(_) | Binding::Visitor(_) => {
            return Err(hidden(principal, "practice", practice.as_str(), "practice"))
        }
    }
    require_exists(conn, practice).await
}

/// An insurer reads a practice's practice-level quality data only while the practice consents to
/// share it with that insurer (001 §1.3c). Without consent the insurer may not even learn that
/// the practice is in the register: 404, as for an unknown practice.
pub async fn require_consent(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    insurer: &UzoviCode,
    practice: &OefentherapieAgb,
) -> Result<(), ApiError> {
    if has_consent(conn, insurer, practice).await? {
        Ok(())
    } else {
        Err(hidden(principal, "practice", practice.as_str(), "practice"))
    }
}

/// Whether the practice has an active consent for the insurer (001 §1.3c).
pub async fn has_consent(
    conn: &mut AsyncPgConnection,
    insurer: &UzoviCode,
    practice: &OefentherapieAgb,
) -> Result<bool, ApiError> {
    Ok(crate::consents::repository::has_consent(conn, practice, insurer).await?)
}
