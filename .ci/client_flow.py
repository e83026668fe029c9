"""Drives the running services through the Python clients generated from openapi/*.json.

Usage: client_flow.py CLIENT_PARENT_DIR REGISTER_URL VISITATION_URL EXPORT_URL CLIENT_ID CLIENT_SECRET

CLIENT_PARENT_DIR holds the generated packages `praktijkregister_register`,
`praktijkregister_visitation` and `praktijkregister_insurer_export`; CLIENT_ID and CLIENT_SECRET
are a registrar client of the register. Each flow is what an integrator does: a token, a write, a
read, a paginated list, a file sent or fetched, and problems read back as typed objects. Any step
that a generated client cannot express (a missing operation, an untyped body) fails here, not in
the integrator's hands.
"""

import sys
from http import HTTPStatus
from io import BytesIO


def main() -> None:
    parent, register_url, visitation_url, export_url, client_id, client_secret = sys.argv[1:7]
    sys.path.insert(0, parent)
    token = register_flow(register_url, client_id, client_secret)
    visitation_flow(visitation_url, token)
    export_flow(export_url, token)


def register_flow(base_url: str, client_id: str, client_secret: str) -> str:
    """The register's flow; answers the registrar's access token for the other services."""
    from praktijkregister_register import AuthenticatedClient, Client
    from praktijkregister_register.api.annual_plans import (
        get_annual_plan_document,
        submit_annual_plan,
    )
    from praktijkregister_register.api.authentication import token
    from praktijkregister_register.api.kwaliteitsregister_paramedici import import_kp
    from praktijkregister_register.api.practices import (
        create_practice,
        get_practice,
        list_practices,
    )
    from praktijkregister_register.models import (
        AnnualPlan,
        ImportReport,
        NewPracticeRequest,
        Practice,
        Problem,
        TokenRequest,
    )
    from praktijkregister_register.types import File

    # Token: client credentials with HTTP Basic, as the token endpoint documents.
    anonymous = Client(base_url=base_url, httpx_args={"auth": (client_id, client_secret)})
    granted = token.sync(client=anonymous, body=TokenRequest(grant_type="client_credentials"))
    assert granted is not None and not isinstance(granted, Problem), granted
    assert granted.token_type.lower() == "bearer"
    client = AuthenticatedClient(base_url=base_url, token=granted.access_token)
    step("token", f"{len(granted.scope.split())} scopes")

    # Write: three practices, from the document's own example with other AGB codes.
    agbs = ["07900001", "07900002", "07900003"]
    for n, agb in enumerate(agbs):
        body = NewPracticeRequest.from_dict(
            {
                "agb": agb,
                "kvk_number": f"9000000{n}",
                "name": f"Oefentherapie Contract {n}",
                "locations": [
                    {
                        "agb": f"0791000{n}",
                        "kvk_branch_number": f"00009000000{n}",
                        "street": "Dorpsstraat",
                        "house_number": str(n + 1),
                        "postal_code": "1234 AB",
                        "city": "Utrecht",
                        "phone": "030 123 4567",
                        "own_administration": True,
                        "own_entrance": True,
                        "own_logo": True,
                        "own_reception": True,
                        "own_waiting_room": True,
                    }
                ],
            }
        )
        created = create_practice.sync_detailed(client=client, body=body)
        assert created.status_code == HTTPStatus.CREATED, (created.status_code, created.content)
        assert isinstance(created.parsed, Practice), created.parsed
    step("write", f"{len(agbs)} practices created")

    # Read.
    read = get_practice.sync(agbs[0], client=client)
    assert isinstance(read, Practice), read
    assert read.agb == agbs[0] and read.name == "Oefentherapie Contract 0"
    step("read", f"{read.agb} {read.name}")

    # Paginated list: one item per page, following the cursor to the end.
    seen, pages, cursor = [], 0, None
    while True:
        kwargs = {"limit": 1}
        if cursor:
            kwargs["cursor"] = cursor
        page = list_practices.sync(client=client, **kwargs)
        assert page is not None and not isinstance(page, Problem), page
        assert all(isinstance(item, Practice) for item in page.items)
        seen.extend(item.agb for item in page.items)
        pages += 1
        cursor = page.next_cursor if isinstance(page.next_cursor, str) else None
        if not cursor:
            break
        assert pages < 1000, "the cursor does not end"
    assert set(agbs) <= set(seen), seen
    assert len(seen) == len(set(seen)), "a practice on two pages"
    step("list", f"{pages} pages of 1, {len(seen)} practices")

    # File upload: the annual plan as a PDF body, and the same bytes back.
    pdf = b"%PDF-1.4\n% contract flow\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    submitted = submit_annual_plan.sync_detailed(
        agbs[0],
        client=client,
        body=File(payload=BytesIO(pdf), file_name="jaarplan.pdf", mime_type="application/pdf"),
        cycle_year=granted_cycle_year(),
        filename="jaarplan.pdf",
    )
    assert submitted.status_code == HTTPStatus.CREATED, (submitted.status_code, submitted.content)
    plan = submitted.parsed
    assert isinstance(plan, AnnualPlan) and plan.size_bytes == len(pdf), plan
    document = get_annual_plan_document.sync_detailed(plan.id, client=client)
    assert document.status_code == HTTPStatus.OK, document.status_code
    assert document.content == pdf
    step("upload", f"annual plan {plan.id}, {plan.size_bytes} bytes, downloaded identical")

    # CSV upload: a KP export with one therapist.
    csv = (
        "kp_number,agb,name,status,valid_from,valid_until\n"
        "900001,07920001,A. Contract,kwaliteitsgeregistreerd,2024-01-01,2029-01-01\n"
    ).encode()
    imported = import_kp.sync_detailed(
        client=client, body=File(payload=BytesIO(csv), mime_type="text/csv")
    )
    assert imported.status_code == HTTPStatus.OK, (imported.status_code, imported.content)
    report = imported.parsed
    assert isinstance(report, ImportReport) and len(report.rows) == 1, report
    step("csv import", f"import {report.import_id}: row 1 {report.rows[0].outcome}")

    # Problems as typed objects: a 404, and a 422 naming the field.
    missing = get_practice.sync("07999999", client=client)
    assert isinstance(missing, Problem), missing
    assert missing.status == 404 and missing.type_.endswith("/not-found"), missing
    invalid = create_practice.sync(
        client=client,
        body=NewPracticeRequest.from_dict(
            {"agb": "07900009", "kvk_number": "1", "name": "X", "locations": []}
        ),
    )
    assert isinstance(invalid, Problem) and invalid.status == 422, invalid
    fields = [error.field for error in invalid.errors]
    assert fields, invalid
    step("problems", f"404 {missing.type_}; 422 on {', '.join(fields)}")
    return granted.access_token


def visitation_flow(base_url: str, token: str) -> None:
    """Visitors written, read and listed; a report sent as a PDF; problems typed."""
    from praktijkregister_visitation import AuthenticatedClient
    from praktijkregister_visitation.api.visitations import put_report
    from praktijkregister_visitation.api.visitors import get_visitor, list_visitors, put_visitor
    from praktijkregister_visitation.models import PageVisitor, Problem, Visitor, VisitorDetails
    from praktijkregister_visitation.types import File

    client = AuthenticatedClient(base_url=base_url, token=token)
    ids = ["contract-visitor-1", "contract-visitor-2"]
    for n, visitor_id in enumerate(ids):
        written = put_visitor.sync_detailed(
            visitor_id,
            client=client,
            body=VisitorDetails.from_dict(
                {
                    "name": f"V. Contract {n}",
                    "email": f"visitor{n}@example.nl",
                    "trained_on": "2025-03-01",
                    "authorised_from": "2025-04-01",
                    "max_sessions_per_year": 12,
                    "max_sessions_per_week": 2,
                }
            ),
        )
        assert written.status_code in (HTTPStatus.OK, HTTPStatus.CREATED), (
            written.status_code,
            written.content,
        )
        assert isinstance(written.parsed, Visitor), written.parsed
    step("visitation write", f"{len(ids)} visitors")

    read = get_visitor.sync(ids[0], client=client)
    assert isinstance(read, Visitor) and read.name == "V. Contract 0", read
    step("visitation read", f"{read.id} {read.name}")

    seen, cursor = [], None
    while True:
        page = list_visitors.sync(client=client, limit=1, **({"cursor": cursor} if cursor else {}))
        assert isinstance(page, PageVisitor), page
        seen.extend(item.id for item in page.items)
        cursor = page.next_cursor if isinstance(page.next_cursor, str) else None
        if not cursor:
            break
        assert len(seen) < 1000, "the cursor does not end"
    assert seen == sorted(set(seen)) and set(ids) <= set(seen), seen
    step("visitation list", f"{len(seen)} visitors, one per page")

    # The report is sent as the PDF itself; for a visitation that does not exist the answer is a
    # typed problem, which is what an integrator's client must be able to read.
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    sent = put_report.sync(
        "0193a1f2-7c1e-7d2a-9a51-3f0e2b6c8d31",
        client=client,
        body=File(payload=BytesIO(pdf), file_name="verslag.pdf", mime_type="application/pdf"),
    )
    assert isinstance(sent, Problem) and sent.status == 404, sent
    invalid = put_visitor.sync(
        "contract-visitor-3",
        client=client,
        body=VisitorDetails.from_dict(
            {
                "name": "V. Contract",
                "email": "not an address",
                "trained_on": "2025-03-01",
                "authorised_from": "2025-04-01",
                "max_sessions_per_year": 0,
                "max_sessions_per_week": 2,
            }
        ),
    )
    assert isinstance(invalid, Problem) and invalid.status == 422, invalid
    fields = sorted(error.field for error in invalid.errors)
    assert fields == ["email", "max_sessions_per_year"], fields
    step("visitation problems", f"report upload 404; 422 on {', '.join(fields)}")


def export_flow(base_url: str, token: str) -> None:
    """An insurer and its criteria written and read, its 1 November list built and fetched as
    JSON, CSV and signature, its change feed paged; problems typed."""
    import datetime

    from praktijkregister_insurer_export import AuthenticatedClient
    from praktijkregister_insurer_export.api.changes import list_changes
    from praktijkregister_insurer_export.api.insurers import create_insurer, get_insurer, put_criteria
    from praktijkregister_insurer_export.api.snapshots import build_snapshot, get_export, get_signature
    from praktijkregister_insurer_export.models import (
        ChangePage,
        CriteriaRequest,
        CriteriaVersion,
        Insurer,
        NewInsurer,
        Problem,
        SnapshotBody,
        SnapshotSummary,
    )

    client = AuthenticatedClient(base_url=base_url, token=token)
    uzovi = "3399"
    contract_year = datetime.date.today().year + 1
    created = create_insurer.sync(
        client=client,
        body=NewInsurer.from_dict(
            {"uzovi": uzovi, "name": "Zorgverzekeraar Contract", "differentiated": True}
        ),
    )
    assert isinstance(created, Insurer), created
    criteria = put_criteria.sync(
        uzovi, contract_year, client=client, body=CriteriaRequest.from_dict({"base_set": "plus"})
    )
    assert isinstance(criteria, CriteriaVersion), criteria
    step("export write", f"insurer {uzovi}, criteria version {criteria.version} for {contract_year}")

    read = get_insurer.sync(uzovi, client=client)
    assert isinstance(read, Insurer) and read.name == "Zorgverzekeraar Contract", read
    step("export read", f"{read.uzovi} {read.name}")

    built = build_snapshot.sync(uzovi, contract_year, client=client)
    assert isinstance(built, SnapshotSummary), built
    body = get_export.sync(uzovi, contract_year, client=client)
    assert isinstance(body, SnapshotBody), body
    csv = client.get_httpx_client().get(
        f"/v1/insurers/{uzovi}/exports/{contract_year}", headers={"Accept": "text/csv"}
    )
    assert csv.status_code == HTTPStatus.OK and csv.headers["content-type"].startswith("text/csv")
    assert csv.content.startswith(b"\xef\xbb\xbf"), "the semicolon form starts with a BOM"
    signature = get_signature.sync_detailed(uzovi, built.id, client=client)
    assert signature.status_code == HTTPStatus.OK and signature.content.count(b".") == 2
    step(
        "export files",
        f"snapshot {built.id}: {len(body.practices)} practices as JSON, "
        f"{len(csv.content)} bytes of CSV, a detached JWS",
    )

    changes = list_changes.sync(uzovi, client=client, limit=1)
    assert isinstance(changes, ChangePage), changes
    step("export list", f"{len(changes.items)} changes since the snapshot")

    missing = get_insurer.sync("9999", client=client)
    assert isinstance(missing, Problem) and missing.status == 404, missing
    invalid = put_criteria.sync(
        uzovi,
        contract_year,
        client=client,
        body=CriteriaRequest.from_dict({"criteria": ["plus.no_such_criterion"]}),
    )
    assert isinstance(invalid, Problem) and invalid.status in (409, 422), invalid
    step("export problems", f"404 {missing.type_}; {invalid.status} {invalid.type_}")


def granted_cycle_year() -> int:
    """The next cycle year: its annual-plan deadline (1 July) is always ahead."""
    import datetime

    return datetime.date.today().year + 1


def step(name: str, detail: str) -> None:
    print(f"    {name}: {detail}", flush=True)


if __name__ == "__main__":
    main()
