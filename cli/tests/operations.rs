//! The operator's commands, run as the binary: `token` prints a fresh token on every call,
//! `seed --demo --reset` starts the demo over (in development only) and `local-db status`
//! reports the private cluster.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

use diesel::sql_types::BigInt;
use diesel::RunQueryDsl as _;
use praktijkregister_platform::testing::TestDatabase;

fn run(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_praktijkregister"));
    command.current_dir(dir).env_remove("PRR_CONFIG_FILE");
    for (key, value) in env {
        command.env(key, value);
    }
    command.args(args).output().expect("run the binary")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("prr-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A token endpoint on loopback that answers each request with the next of `answers`
/// (status, body) and hands back what it was sent.
fn token_endpoint(answers: Vec<(u16, String)>) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/oauth/token", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut requests = Vec::new();
        for (status, body) in answers {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut content = vec![0; length];
            reader.read_exact(&mut content).unwrap();
            requests.push(format!("{head}{}", String::from_utf8_lossy(&content)));
            let mut stream = reader.into_inner();
            write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
        }
        requests
    });
    (url, handle)
}

#[test]
fn token_prints_a_fresh_token_on_every_call_and_says_why_there_is_none() {
    let dir = temp_dir("token");
    let answer = |token: &str| {
        (
            200,
            format!(r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":300}}"#),
        )
    };
    let refused = (
        401,
        r#"{"error":"invalid_client","error_description":"client authentication failed"}"#.into(),
    );
    let (url, endpoint) = token_endpoint(vec![answer("first"), answer("second"), refused]);
    let args = |scope: Option<&str>| {
        let mut args = vec![
            "token",
            "--client-id",
            "registrar",
            "--client-secret",
            "s3cret",
            "--token-url",
            url.as_str(),
        ];
        if let Some(scope) = scope {
            args.extend(["--scope", scope]);
        }
        args.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let call = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&dir, &[], &args)
    };
    let first = call(args(None));
    assert!(first.status.success(), "{}", text(&first));
    assert_eq!(String::from_utf8_lossy(&first.stdout), "first\n");
    let second = call(args(Some("practices:read")));
    assert_eq!(String::from_utf8_lossy(&second.stdout), "second\n");
    let third = call(args(None));
    assert!(!third.status.success());
    assert!(third.stdout.is_empty());
    assert!(
        text(&third).contains("client authentication failed"),
        "{}",
        text(&third)
    );

    let requests = endpoint.join().unwrap();
    // `registrar:s3cret` in HTTP Basic, the client-credentials grant, the scope when asked.
    assert!(
        requests[0].contains("cmVnaXN0cmFyOnMzY3JldA=="),
        "{}",
        requests[0]
    );
    assert!(
        requests[0].ends_with("grant_type=client_credentials"),
        "{}",
        requests[0]
    );
    assert!(
        requests[1].contains("scope=practices%3Aread"),
        "{}",
        requests[1]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(db: &TestDatabase, sql: &str) -> i64 {
    diesel::sql_query(format!("SELECT count(*) AS n FROM ({sql}) rows"))
        .get_result::<Count>(&mut db.connect())
        .unwrap()
        .n
}

#[test]
fn seed_demo_reset_starts_the_demo_over_in_development_only() {
    let dir = temp_dir("seed-reset");
    let register = TestDatabase::create("register", praktijkregister_register::startup::MIGRATIONS);
    let visitation = TestDatabase::create(
        "visitation",
        praktijkregister_visitation::startup::MIGRATIONS,
    );
    let export = TestDatabase::create(
        "insurer_export",
        praktijkregister_insurer_export::startup::MIGRATIONS,
    );
    let data_dir = dir.join("var").to_string_lossy().to_string();
    let env = [
        ("PRR__APP__DATA_DIR", data_dir.as_str()),
        ("PRR__REGISTER__DATABASE_URL", register.url()),
        ("PRR__VISITATION__DATABASE_URL", visitation.url()),
        ("PRR__INSURER_EXPORT__DATABASE_URL", export.url()),
    ];
    let seeded = run(&dir, &env, &["seed", "--demo"]);
    assert!(seeded.status.success(), "{}", text(&seeded));
    let practices = count(&register, "SELECT 1 FROM practices");
    let visitors = count(&visitation, "SELECT 1 FROM visitors");
    let insurers = count(&export, "SELECT 1 FROM insurers");
    assert!(practices > 0 && visitors > 0 && insurers > 0);
    // A change of the user's, which the reset undoes.
    diesel::sql_query("UPDATE practices SET name = 'Changed by hand'")
        .execute(&mut register.connect())
        .unwrap();

    let again = run(&dir, &env, &["seed", "--demo"]);
    assert!(
        !again.status.success(),
        "a filled register is not seeded twice"
    );

    let mut production = env.to_vec();
    production.push(("PRR__APP__ENVIRONMENT", "production"));
    let refused = run(&dir, &production, &["seed", "--demo", "--reset"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("development only"),
        "{}",
        text(&refused)
    );
    assert_eq!(
        count(
            &register,
            "SELECT 1 FROM practices WHERE name = 'Changed by hand'"
        ),
        practices,
        "nothing emptied outside development"
    );

    let reset = run(&dir, &env, &["seed", "--demo", "--reset"]);
    assert!(reset.status.success(), "{}", text(&reset));
    assert_eq!(count(&register, "SELECT 1 FROM practices"), practices);
    assert_eq!(
        count(
            &register,
            "SELECT 1 FROM practices WHERE name = 'Changed by hand'"
        ),
        0
    );
    assert_eq!(count(&visitation, "SELECT 1 FROM visitors"), visitors);
    assert_eq!(count(&export, "SELECT 1 FROM insurers"), insurers);
    // The seeded registrar is back, with the secret kept under the data directory.
    assert_eq!(
        count(
            &register,
            "SELECT 1 FROM api_clients WHERE client_id = 'registrar'"
        ),
        1
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn local_db_status_reports_a_missing_private_cluster() {
    let dir = temp_dir("local-db");
    let output = run(
        &dir,
        &[("PRR__APP__DATA_DIR", "var")],
        &["local-db", "status"],
    );
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("no private cluster under var"),
        "{}",
        text(&output)
    );
    let stop = run(
        &dir,
        &[("PRR__APP__DATA_DIR", "var")],
        &["local-db", "stop"],
    );
    assert!(stop.status.success(), "{}", text(&stop));
    assert!(String::from_utf8_lossy(&stop.stdout).contains("was not running"));
    std::fs::remove_dir_all(&dir).unwrap();
}
