//! The register's directory of a cycle year's practices (DESIGN §2: the visitation service never
//! reads the register's tables), read with the service client and kept briefly. Lists and dry runs
//! may use a read that is at most `directory_cache_seconds` old; anything that creates or moves a
//! session reads it afresh, so that a stale copy never lets a conflict through.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use praktijkregister_domain::{
    visitation_due, CycleYear, DueReason, NotDueReason, PracticeProfile, PracticeTier,
    RegistrationState, VisitorProfile,
};
use praktijkregister_events::{DirectoryPractice, VisitationDirectory};
use praktijkregister_platform::error::ApiError;
use praktijkregister_platform::service_client::ServiceClient;
use tokio::sync::Mutex;

/// Reads the directory from the register.
pub struct Directory {
    client: ServiceClient,
    ttl: Duration,
    cache: Mutex<HashMap<u16, (Instant, Arc<YearDirectory>)>>,
}

impl Directory {
    /// `client` resolves relative paths against the register's base URL.
    pub fn new(client: ServiceClient, ttl: Duration) -> Self {
        Self {
            client,
            ttl,
            cache: Mutex::default(),
        }
    }

    /// The directory of `year`, at most the cache's age old.
    pub async fn cached(&self, year: CycleYear) -> Result<Arc<YearDirectory>, ApiError> {
        if let Some((at, directory)) = self.cache.lock().await.get(&year.value()) {
            if at.elapsed() < self.ttl {
                return Ok(directory.clone());
            }
        }
        self.fresh(year).await
    }

    /// The directory of `year` as the register answers now.
    pub async fn fresh(&self, year: CycleYear) -> Result<Arc<YearDirectory>, ApiError> {
        let read: VisitationDirectory = self
            .client
            .get_json(&format!("v1/internal/visitation-directory/{year}"))
            .await?;
        let directory = Arc::new(YearDirectory::new(read));
        self.cache
            .lock()
            .await
            .insert(year.value(), (Instant::now(), directory.clone()));
        Ok(directory)
    }
}

/// One year's directory, indexed for the rules.
pub struct YearDirectory {
    pub raw: VisitationDirectory,
    by_agb: BTreeMap<String, usize>,
    /// Conflict profiles by AGB.
    profiles: BTreeMap<String, PracticeProfile>,
    /// Practices by therapist AGB, and intervision groups by therapist AGB.
    practices_of_therapist: BTreeMap<String, BTreeSet<String>>,
    groups_of_therapist: BTreeMap<String, BTreeSet<String>>,
}

impl YearDirectory {
    pub fn new(raw: VisitationDirectory) -> Self {
        let mut by_agb = BTreeMap::new();
        let mut profiles = BTreeMap::new();
        let mut practices_of_therapist: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (index, practice) in raw.practices.iter().enumerate() {
            by_agb.insert(practice.agb.clone(), index);
            profiles.insert(practice.agb.clone(), profile(practice));
            for therapist in &practice.therapist_agbs {
                practices_of_therapist
                    .entry(therapist.clone())
                    .or_default()
                    .insert(practice.agb.clone());
            }
        }
        let mut groups_of_therapist: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for group in &raw.intervision_groups {
            for therapist in &group.therapist_agbs {
                groups_of_therapist
                    .entry(therapist.clone())
                    .or_default()
                    .insert(group.id.to_string());
            }
        }
        Self {
            raw,
            by_agb,
            profiles,
            practices_of_therapist,
            groups_of_therapist,
        }
    }

    pub fn practice(&self, agb: &str) -> Option<&DirectoryPractice> {
        self.by_agb.get(agb).map(|i| &self.raw.practices[*i])
    }

    pub fn profile(&self, agb: &str) -> Option<&PracticeProfile> {
        self.profiles.get(agb)
    }

    /// The conflict profile of a visitor: where their therapist AGB works and its groups.
    pub fn visitor_profile(&self, id: &str, therapist_agb: Option<&str>) -> VisitorProfile {
        let lookup = |map: &BTreeMap<String, BTreeSet<String>>| {
            therapist_agb
                .and_then(|agb| map.get(agb))
                .cloned()
                .unwrap_or_default()
        };
        VisitorProfile {
            id: id.to_string(),
            practices: lookup(&self.practices_of_therapist),
            intervision_groups: lookup(&self.groups_of_therapist),
        }
    }
}

fn profile(practice: &DirectoryPractice) -> PracticeProfile {
    PracticeProfile {
        agb: practice.agb.clone(),
        kvk_number: practice.kvk_number.clone(),
        addresses: practice
            .locations
            .iter()
            .map(|l| l.address_key.clone())
            .collect(),
        therapists: practice.therapist_agbs.iter().cloned().collect(),
        intervision_groups: practice
            .intervision_groups
            .iter()
            .map(|g| g.id.to_string())
            .collect(),
    }
}

/// The practice's tier; an unknown name is read as the default tier.
pub fn tier(practice: &DirectoryPractice) -> PracticeTier {
    PracticeTier::parse(&practice.tier).unwrap_or_default()
}

/// Whether the practice is due for a visitation in `year`, and why (see [`visitation_due`]); a
/// refused or withdrawn registration is closed.
pub fn due(practice: &DirectoryPractice, year: CycleYear) -> Result<DueReason, NotDueReason> {
    let closed = matches!(
        RegistrationState::parse(&practice.registration_state),
        Ok(RegistrationState::Refused | RegistrationState::Withdrawn)
    );
    visitation_due(
        tier(practice),
        year,
        practice.new_to_register,
        practice.last_positive_visitation_on,
        closed,
    )
}

/// Whether the practice's registration accepts a planned visitation.
pub fn awaiting_visitation(practice: &DirectoryPractice) -> bool {
    matches!(
        RegistrationState::parse(&practice.registration_state),
        Ok(RegistrationState::PlanApproved | RegistrationState::VisitationPlanned)
    )
}
