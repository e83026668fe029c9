"""Drives the running register service through a Python client generated from openapi/register.json.

Usage: client_flow.py CLIENT_PARENT_DIR BASE_URL CLIENT_ID CLIENT_SECRET

CLIENT_PARENT_DIR holds the generated package `praktijkregister_register`. The flow is what an
integrator does: a token, a write, a read, a paginated list, a file upload and its download, a KP
CSV import, and problems read back as typed objects. Any step that the generated client cannot
express (a missing operation, an untyped body) fails here, not in the integrator's hands.
"""

import sys
from http import HTTPStatus
from io import BytesIO


def main() -> None:
    parent, base_url, client_id, client_secret = sys.argv[1:5]
    sys.path.insert(0, parent)
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


def granted_cycle_year() -> int:
    """The next cycle year: its annual-plan deadline (1 July) is always ahead."""
    import datetime

    return datetime.date.today().year + 1


def step(name: str, detail: str) -> None:
    print(f"    {name}: {detail}", flush=True)


if __name__ == "__main__":
    main()
