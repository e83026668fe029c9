//! Who is due: the yearly and two-yearly rhythm and entry visitations.

use crate::helpers::*;

// 000, 001 §1.2a-b, 002.
#[tokio::test]
async fn the_due_list_follows_the_tiers_and_entry_visitations() {
    let suite = suite().await;
    {
        let mut db = suite.register_db();
        // Basispraktijkregister, registered last year after a positive visitation: not due.
        add_practice(
            &mut db,
            &Practice {
                tier: "basispraktijkregister",
                ..Practice::approved("07000041", "50000001", "1000AA")
            },
        );
        registration(
            &mut db,
            "07000041",
            YEAR - 1,
            "registered",
            Some(day("2026-09-01")),
        );
        // Basispraktijkregister, last visited two years ago: due.
        add_practice(
            &mut db,
            &Practice {
                tier: "basispraktijkregister",
                ..Practice::approved("07000042", "50000002", "2000AA")
            },
        );
        registration(
            &mut db,
            "07000042",
            YEAR - 2,
            "registered",
            Some(day("2025-09-01")),
        );
        // Praktijkregister, registered last year: due every year.
        add_practice(
            &mut db,
            &Practice::approved("07000043", "50000003", "3000AA"),
        );
        registration(
            &mut db,
            "07000043",
            YEAR - 1,
            "registered",
            Some(day("2026-09-01")),
        );
        // New to the register: the entry visitation.
        add_practice(
            &mut db,
            &Practice {
                state: "plan_submitted",
                ..Practice::approved("07000044", "50000004", "4000AA")
            },
        );
    }
    let registrar = suite.registrar();
    let (status, list) = suite
        .visitation
        .client
        .caller(&registrar)
        .get(&format!("/v1/cycles/{YEAR}/due"))
        .await;
    assert_eq!(status, 200, "{list}");
    let item = |agb: &str| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["practice_agb"] == agb)
            .cloned()
            .unwrap()
    };
    assert_eq!(item("07000041")["due"], false);
    assert_eq!(item("07000041")["not_due_reason"], "visited_last_year");
    assert_eq!(item("07000042")["reason"], "two_yearly");
    assert_eq!(item("07000043")["reason"], "yearly");
    assert_eq!(item("07000044")["reason"], "entry_visitation");
    assert_eq!(item("07000044")["plan_approved"], false);
    assert_eq!(list["visitation_deadline"], "2027-10-15");
}
