//! The bad-input corpus: hundreds of wrong inputs a demanding user (or a hostile client)
//! gives waybill — command-line arguments, configuration files and environment variables,
//! import files, and HTTP requests to `waybill serve`'s API, page and webhook routes — each
//! run against the real binary and the sandboxes.
//!
//! Every case asserts the exit code (or the HTTP status), that the message names what to
//! fix (a substring per case), that nothing panicked (no exit 101, no `panicked at`, the
//! server still answering), and that a failed command left no file behind unless it writes
//! (a mistyped `--db` creates nothing). Known secret values are configured for every case
//! (the Starmile client secret, StarShipIT keys, API keys, the webhook secret and token, a
//! store password, a password in a URL, a numeric secret in the file), and no output of any
//! case — nor the server's log — may contain one.
//!
//! The cases are tables below (one line each); the test prints how many ran per category.

mod serve_support;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use futures::StreamExt as _;
use serve_support::{API_KEY, WEBHOOK_SECRET};
use waybill_e2e::{AppOptions, TestApp, spawn_app};

const BIN: &str = env!("CARGO_BIN_EXE_waybill-e2e");

/// The webhook URL token configured for every case.
const WEBHOOK_TOKEN: &str = "corpusHookToken-0123456789";
/// The password of a PostgreSQL store URL some cases configure.
const STORE_PASSWORD: &str = "pgCorpusPw4242";
/// A password written into a base URL by mistake.
const URL_PASSWORD: &str = "urlCorpusPw7731";
/// A secret written as a number in the file.
const NUMERIC_SECRET: &str = "8675309123";
/// A secret written unquoted (a TOML syntax error quoting the line).
const UNQUOTED_SECRET: &str = "unquotedCorpusSecret";
/// An API key kept in a file.
const FILE_SECRET: &str = "fileCorpusSecret-5512";

/// How long any one command may take.
const CASE_TIMEOUT: Duration = Duration::from_secs(30);

/// One command-line case: the arguments, the configuration it runs with, what it must exit
/// with and say.
#[derive(Clone)]
struct Cli {
    category: &'static str,
    args: Vec<String>,
    config: Config,
    env: Vec<(String, String)>,
    files: Vec<(String, Vec<u8>)>,
    code: i32,
    says: String,
    /// The command writes: it may leave the store behind.
    writes: bool,
}

/// The `waybill.toml` a case's working directory holds.
#[derive(Clone)]
enum Config {
    /// A working configuration over the sandboxes, the store in the shared directory.
    Good,
    /// No file at all.
    None,
    /// This text (placeholders: `{starmile}`, `{starshipit}`, `{client_id}`, `{db}`).
    Text(String),
    /// The working configuration with this text appended.
    GoodPlus(String),
}

impl Cli {
    fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }
    fn file(mut self, name: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.files.push((name.to_owned(), contents.into()));
        self
    }
    fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }
    fn writes(mut self) -> Self {
        self.writes = true;
        self
    }
}

/// A case in `category`: `args` split on spaces (`'…'` keeps spaces, `''` is empty).
fn cli(category: &'static str, args: &str, code: i32, says: &str) -> Cli {
    Cli {
        category,
        args: split(args),
        config: Config::Good,
        env: Vec::new(),
        files: Vec::new(),
        code,
        says: says.to_owned(),
        writes: false,
    }
}

/// `config check` (or `args`) with `toml` as the whole file.
fn toml(args: &str, text: &str, code: i32, says: &str) -> Cli {
    cli("config", args, code, says).config(Config::Text(text.to_owned()))
}

/// `args` with the working configuration plus `extra`.
fn plus(args: &str, extra: &str, code: i32, says: &str) -> Cli {
    cli("config", args, code, says).config(Config::GoodPlus(extra.to_owned()))
}

/// Splits on spaces; `'…'` is one argument (possibly empty).
fn split(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c == ' ' {
            chars.next();
        } else if c == '\'' {
            chars.next();
            out.push(chars.by_ref().take_while(|&c| c != '\'').collect());
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c == ' ' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            out.push(word);
        }
    }
    out
}

/// A Starmile account table over the sandbox, named `name`.
fn account(name: &str) -> String {
    format!(
        "[[starmile.accounts]]\nname = \"{name}\"\nbase_url = \"{{starmile}}\"\nclient_id = \"{{client_id}}\"\n"
    )
}

/// The command-line cases.
fn cli_cases() -> Vec<Cli> {
    let c = |args: &str, code: i32, says: &str| cli("cli", args, code, says);
    let long = "X".repeat(5000);
    vec![
        // demo: the clock's speed, sizes and the store it keeps.
        c("demo --speed NaN", 2, "--speed NaN is not a number"),
        c("demo --speed inf", 2, "--speed inf is not a number"),
        c("demo --speed=-inf", 2, "above 0"),
        c("demo --speed 1e300", 2, "--speed 1e300 is not"),
        c("demo --speed 1e7", 2, "at most 1000000"),
        c("demo --speed 0", 2, "--speed 0 is not"),
        c("demo --speed=-1", 2, "--speed -1 is not"),
        c("demo --speed 0.0", 2, "above 0"),
        c("demo --speed fast", 2, "invalid value 'fast' for '--speed"),
        c("demo --speed ''", 2, "--speed"),
        c("demo --orders 0", 2, "--orders"),
        c("demo --orders 1001", 2, "1001 is not in 1..=1000"),
        c("demo --orders=-3", 2, "--orders"),
        c("demo --orders many", 2, "invalid value 'many'"),
        c("demo --orders 99999999999999999999", 2, "--orders"),
        c("demo --timeout 0", 2, "--timeout"),
        c("demo --timeout 18446744073709551615", 2, "not in 1..=86400"),
        c("demo --timeout=-1", 2, "--timeout"),
        c("demo --seed=-1", 2, "--seed"),
        c(
            "demo --first-leg-zone Mars/Olympus",
            2,
            "--first-leg-zone \"Mars/Olympus\" is not an IANA time zone",
        ),
        c("demo --first-leg-zone ''", 2, "--first-leg-zone"),
        c("demo --tz Nowhere/Land", 2, "Nowhere/Land"),
        c("demo --db missing/folder/demo.db", 2, "the folder missing/folder for the store"),
        c("demo --db .", 2, "--db . is a folder"),
        c("demo --db ' demo.db'", 2, "has spaces around it"),
        // quote: weights no tier covers, weights that are not weights, services.
        c("quote --service 5 --weight 6kg", 2, "is above every tier of service 5: the heaviest is"),
        c("quote --service 5 --weight 60kg", 2, "the heaviest is"),
        c("quote --service 5 --weight 1000kg", 2, "the heaviest is"),
        c("quote --service 5 --weight 1001kg", 2, "weight"),
        c("quote --service 5 --weight 1e300kg", 2, "weight"),
        c("quote --service 5 --weight NaNkg", 2, "weight"),
        c("quote --service 5 --weight heavy", 2, "weight"),
        c("quote --service 5 --weight=-1", 2, "weight"),
        c("quote --service 5 --weight 0", 2, "weight"),
        c("quote --service 5 --weight ''", 2, "weight"),
        c("quote --service 5 --weight '1.5 lb'", 2, "weight"),
        c("quote --service 5 --weight 1.5lb", 2, "weight"),
        c("quote --service 0 --weight 1kg", 2, "service"),
        c("quote --service=-1 --weight 1kg", 2, "--service"),
        c("quote --service five --weight 1kg", 2, "invalid value 'five' for '--service"),
        c("quote --service 4294967296 --weight 1kg", 2, "--service"),
        c("quote --service 99999 --weight 1kg", 3, "service 99999 has no rate card"),
        c("quote --weight 1kg", 2, "--service"),
        // orders list / show: filters and references.
        c("orders list --limit 0", 2, "0 is not in 1..=1000"),
        c("orders list --limit 5000", 2, "5000 is not in 1..=1000"),
        c("orders list --limit=-1", 2, "--limit"),
        c("orders list --limit many", 2, "invalid value 'many' for '--limit"),
        c("orders list --limit 1e3", 2, "--limit"),
        c("orders list --status lost", 2, "lost"),
        c("orders list --status ''", 2, "status"),
        c("orders list --service 0", 2, "service"),
        c("orders list --service abc", 2, "--service"),
        c("orders list --after ''", 2, "reference"),
        c("orders list --bogus", 2, "unexpected argument '--bogus'"),
        c("orders show ''", 2, "reference"),
        c("orders show PO-NOPE", 3, "no stored order PO-NOPE"),
        c(&format!("orders show {long}"), 2, "reference"),
        c("orders show", 2, "<REFERENCE>"),
        // timeline, store, label: the store they read must exist.
        c("timeline ''", 2, "the parcel number is empty"),
        c("timeline '   '", 2, "the parcel number is empty"),
        c("timeline NOPE", 3, "no parcel known by \"NOPE\""),
        c("timeline NOPE --tz Nowhere/Land", 2, "Nowhere/Land"),
        c("timeline X --db missing.db", 2, "no store at missing.db (--db)"),
        c("timeline X --db no/such/folder/x.db", 2, "no store at no/such/folder/x.db"),
        c("timeline X --db .", 2, "--db . is a folder"),
        c(
            "orders list --db missing.db",
            2,
            "no store at missing.db (--db): check the path, or create the store with `waybill --db missing.db store migrate`",
        ),
        c("orders list --db typo/waybill.db", 2, "no store at typo/waybill.db"),
        c("orders show PO-1 --db missing.db", 2, "no store at missing.db"),
        c("store status --db missing.db", 2, "no store at missing.db"),
        c("store status --db .", 2, "is a folder"),
        c(
            "store migrate --db a/b/c/waybill.db",
            2,
            "the folder a/b/c for the store a/b/c/waybill.db (--db) does not exist: create it (`mkdir -p a/b/c`)",
        ),
        c("store migrate --db ' x.db'", 2, "has spaces around it"),
        c("label PO-1 --all -o labels --db missing.db", 2, "no store at missing.db"),
        c("label '' -o x.pdf", 2, "empty"),
        c(
            "orders create --reference PO-1 --service 5 --item A --db nowhere/x.db",
            2,
            "the folder nowhere",
        ),
        c("sync --once --db nowhere/x.db", 2, "the folder nowhere"),
        // orders create and the parcel commands: every field checked before any call.
        c("orders create --reference '' --service 5 --item A", 2, "reference"),
        c("orders create --reference PO-1 --service 0 --item A", 2, "service"),
        c("orders create --reference PO-1 --service 5", 2, "--item"),
        c("orders create --reference PO-1 --service 5 --item ''", 2, "tracking number"),
        c(&format!("orders create --reference {long} --service 5 --item A"), 2, "reference"),
        c(
            "orders create --reference PO-1 --service x --item A",
            2,
            "invalid value 'x' for '--service",
        ),
        c("orders update-parcel PO-1 TRK-1 --weight heavy", 2, "weight"),
        c("orders update-parcel PO-1 TRK-1 --weight 0", 2, "weight"),
        c("orders update-parcel PO-1 TRK-1 --dimensions 10x10", 2, "dimensions"),
        c("orders update-parcel PO-1 TRK-1 --dimensions axbxc", 2, "dimensions"),
        c("orders update-parcel PO-1 TRK-1 --package-type bogus", 2, "bogus"),
        c(
            "orders update-parcel PO-1 TRK-1 --product 'a;b;c;d;e;f'",
            2,
            "HS code \"b\" is invalid: must be 6 to 10 digits",
        ),
        c("orders update-parcel '' TRK-1 --weight 1kg", 2, "reference"),
        c("orders add-parcel PO-1 TRK-9 --product ''", 2, "product"),
        c("orders add-parcel PO-1 TRK-9 --product Cap --weight=-5", 2, "weight"),
        c("orders add-parcel PO-1 '' --product Cap", 2, "tracking number"),
        c("orders cancel ''", 2, "reference"),
        c("orders cancel-parcel PO-1 ''", 2, "tracking number"),
        c("orders split PO-1 TRK-2 ''", 2, "reference"),
        c("orders import", 2, "<FILE>"),
        // serve's listen address, and the rest of the command line.
        c("serve --listen nowhere", 2, "listen address \"nowhere\" has no port"),
        c("serve --listen :8088", 2, "has no host"),
        c("serve --listen localhost:http", 2, "not a number from 0 to 65535"),
        c("serve --listen 127.0.0.1:99999", 2, "99999"),
        c("serve --listen ' 127.0.0.1:1'", 2, "spaces around it"),
        c("serve --listen ''", 2, "listen address"),
        c("frobnicate", 2, "unrecognized subcommand 'frobnicate'"),
        c("--log-format xml orders list", 2, "invalid value 'xml' for '--log-format"),
        c("--account nobody services", 2, "no Starmile account named \"nobody\"; configured: main"),
        c("--account nobody quote --service 5 --weight 1kg", 2, "no Starmile account named"),
        c("--json demo --speed NaN", 2, "\"code\": \"usage\""),
        c("--json orders list --db missing.db", 2, "\"exit_code\": 2"),
        c("completions cmd.exe", 2, "invalid value 'cmd.exe'"),
        c("track ''", 2, "empty"),
        c("track X --tz Nowhere/Land", 2, "Nowhere/Land"),
        c("track X --starshipit-account nobody", 2, "nobody"),
        c("sandbox --speed NaN", 2, "--speed"),
        c("sandbox --speed 0", 2, "--speed"),
        c("sandbox --starshipit-accounts 0", 2, "--starshipit-accounts must be at least 1"),
        c("sandbox --starmile-port 70000", 2, "70000"),
    ]
}

/// Configuration files and environment variables.
fn config_cases() -> Vec<Cli> {
    let check = "config check";
    let acct = account("main");
    let a = |extra: &str| format!("{acct}{extra}");
    let ss = |extra: &str| format!("{acct}\n[starshipit]\nbase_url = \"{{starshipit}}\"\n{extra}");
    vec![
        // The positive control: the harness's own configuration passes.
        cli(
            "config",
            check,
            0,
            "configuration ok: 1 Starmile account(s) (main), StarShipIT configured",
        ),
        // The file itself.
        cli(
            "config",
            "--config . config check",
            2,
            "is a folder, not a file: name the configuration file itself",
        ),
        cli("config", "--config missing.toml config check", 2, "missing.toml does not exist"),
        cli("config", "--config missing.toml services", 2, "missing.toml does not exist"),
        cli("config", "--config . timeline X --db x.db", 2, "is a folder, not a file"),
        cli(
            "config",
            "--config bad.toml config check",
            2,
            "bad.toml: stream did not contain valid UTF-8",
        )
        .file("bad.toml", b"a = \"\xff\xfe\"\n".to_vec()),
        cli("config", "config check", 2, "is a folder, not a file").env("WAYBILL_CONFIG", "."),
        cli("config", "config check", 2, "waybill.toml does not exist").config(Config::None),
        // TOML that does not parse, or does not fit.
        toml(
            check,
            &a(&format!("client_secret = {UNQUOTED_SECRET}\n")),
            2,
            "TOML parse error at line 5",
        ),
        toml(check, "[sync\npage_size = 5\n", 2, "TOML parse error at line 1"),
        toml(check, "[sync]\npage_size = 5\npage_size = 6\n", 2, "TOML parse error"),
        toml(
            check,
            "[sync]\npage_size = \"big\"\n",
            2,
            "invalid type: found string \"big\", expected u32 for key \"sync.page_size\"",
        ),
        toml(check, "[sync]\npagesize = 5\n", 2, "unknown field: found `pagesize`"),
        toml(check, "[frobnicate]\nx = 1\n", 2, "unknown field: found `frobnicate`"),
        toml(check, "[sync]\npage_size = -1\n", 2, "sync.page_size"),
        toml(check, "[sync]\npage_size = 1.5\n", 2, "sync.page_size"),
        toml(check, "[sync]\npoll_interval_seconds = 18446744073709551616\n", 2, "line 2"),
        toml(check, "[[starmile.accounts]]\nname = \"x\"\n", 2, "missing field `base_url`"),
        toml(check, "starmile = 5\n", 2, "starmile"),
        toml(check, "[store]\npath = 5\n", 2, "store.path"),
        toml(check, "[serve]\nsync = \"yes\"\n", 2, "serve.sync"),
        // Secrets written in the file: refused, never echoed (as text, number or table).
        toml(
            check,
            &a("client_secret = \"corpus-inline-secret\"\n"),
            2,
            "client_secret must not be written in the file; put it in $WAYBILL_STARMILE_MAIN_CLIENT_SECRET",
        ),
        toml(
            check,
            &a(&format!("client_secret = {NUMERIC_SECRET}\n")),
            2,
            "client_secret must not be written in the file",
        ),
        toml(
            check,
            &a(&format!("client_secret = {{ value = {NUMERIC_SECRET} }}\n")),
            2,
            "client_secret must not be written",
        ),
        plus(
            check,
            &format!("api_key = {NUMERIC_SECRET}\n"),
            2,
            "starshipit: keys must not be written in the file",
        ),
        plus(
            check,
            "subscription_key = \"corpus-inline-sub\"\n",
            2,
            "keys must not be written in the file",
        ),
        plus(
            check,
            &format!("\n[serve]\napi_keys = [{NUMERIC_SECRET}]\n"),
            2,
            "API keys and the webhook secret must not be written in the file",
        ),
        plus(
            check,
            "\n[serve]\nwebhook_secret = \"corpus-inline-hook\"\n",
            2,
            "must not be written in the file",
        ),
        // Outbound webhook subscriptions (the positive control first).
        plus(
            check,
            "\n[[outbound_webhooks]]\nname = \"erp\"\nurl = \"https://erp.example.com/h\"\n",
            0,
            ".db, outbound webhooks: erp",
        )
        .env("WAYBILL_OUTBOUND_WEBHOOK_ERP_SECRET", "corpus-outbound-env-secret"),
        plus(
            check,
            "\n[[outbound_webhooks]]\nname = \"erp\"\nurl = \"https://erp.example.com/h\"\n",
            2,
            "outbound webhook \"erp\": the signing secret is missing: set $WAYBILL_OUTBOUND_WEBHOOK_ERP_SECRET",
        ),
        plus(
            check,
            "\n[[outbound_webhooks]]\nname = \"erp\"\nurl = \"https://erp.example.com/h\"\nsecret = \"corpus-inline-outbound\"\n",
            2,
            "secret must not be written in the file; put it in $WAYBILL_OUTBOUND_WEBHOOK_ERP_SECRET",
        ),
        plus(
            check,
            "\n[[outbound_webhooks]]\nname = \"erp\"\nurl = \"https://erp.example.com/h\"\nstatuses = [\"deliverd\"]\n",
            2,
            "statuses names \"deliverd\", which is not a unified status",
        ),
        plus(
            check,
            "\n[[outbound_webhooks]]\nname = \"erp\"\nurl = \"http://erp.example.com/h\"\n",
            2,
            "url \"http://erp.example.com/h\" must use https",
        ),
        plus(
            check,
            "\n[[outbound_webhooks]]\nname = \"e r p\"\nurl = \"https://erp.example.com/h\"\n",
            2,
            "name must be letters, digits, '-' or '_'",
        ),
        plus(
            check,
            "\n[[outbound_webhooks]]\nname = \"erp\"\nurl = \"https://erp.example.com/h\"\nretry_for_seconds = 999999999\n",
            2,
            "retry_for_seconds is 999999999: use 0 to 259200",
        ),
        plus(
            check,
            "\n[[outbound_webhooks]]\nname = \"erp\"\nurl = \"https://erp.example.com/h\"\nevents = [\"all\"]\n",
            2,
            "unknown field: found `events`",
        ),
        cli("webhooks", "webhooks deliveries --limit 0", 2, "--limit 0 is out of range"),
        cli(
            "webhooks",
            "webhooks deliveries --state sent",
            2,
            "is not a delivery state: use pending, delivered or failed",
        ),
        cli(
            "webhooks",
            "webhooks deliveries --parcel ' M-1'",
            2,
            "remove the leading or trailing whitespace",
        ),
        cli("webhooks", "webhooks redeliver x", 2, "invalid digit"),
        cli("webhooks", "webhooks redeliver 7", 2, "no [[outbound_webhooks]] in the configuration"),
        plus(
            check,
            "\n[[starshipit.accounts]]\nname = \"m\"\napi_key = 12345678\n",
            2,
            "api_key must not be written in the file",
        ),
        // Base URLs: credentials, schemes, spaces, forms the clients refuse.
        toml(
            check,
            &format!(
                "[[starmile.accounts]]\nname = \"main\"\nbase_url = \"https://partner:{URL_PASSWORD}@api.starmile.io\"\nclient_id = \"x\"\n"
            ),
            2,
            "base_url \"https://***@api.starmile.io\": it has a user name or password in it",
        ),
        toml(
            check,
            "[[starmile.accounts]]\nname = \"main\"\nbase_url = \"https://partner@api.starmile.io\"\nclient_id = \"x\"\n",
            2,
            "user name or password",
        ),
        toml(
            check,
            &format!(
                "[[starmile.accounts]]\nname = \"main\"\nbase_url = \"https://p:{URL_PASSWORD}@api star\"\nclient_id = \"x\"\n"
            ),
            2,
            "is not a URL",
        ),
        toml(
            "services",
            &format!(
                "[[starmile.accounts]]\nname = \"main\"\nbase_url = \"https://partner:{URL_PASSWORD}@api.starmile.io\"\nclient_id = \"x\"\n"
            ),
            2,
            "user name or password",
        ),
        toml(
            check,
            &format!(
                "{acct}\n[starshipit]\nbase_url = \"https://k:{URL_PASSWORD}@api.starshipit.com\"\n"
            ),
            2,
            "starshipit: base_url \"https://***@api.starshipit.com\": it has a user name or password",
        ),
        toml(
            check,
            "[[starmile.accounts]]\nname = \"main\"\nbase_url = \"http://api.starmile.io\"\nclient_id = \"x\"\n",
            2,
            "must use https (plain http is allowed only for localhost sandboxes)",
        ),
        toml(
            check,
            "[[starmile.accounts]]\nname = \"main\"\nbase_url = \"ftp://api.starmile.io\"\nclient_id = \"x\"\n",
            2,
            "must use https (not \"ftp\")",
        ),
        toml(
            check,
            "[[starmile.accounts]]\nname = \"main\"\nbase_url = \"api.starmile.io\"\nclient_id = \"x\"\n",
            2,
            "is not a URL (relative URL without a base)",
        ),
        toml(
            check,
            "[[starmile.accounts]]\nname = \"main\"\nbase_url = \"\"\nclient_id = \"x\"\n",
            2,
            "is not a URL",
        ),
        toml(
            check,
            "[[starmile.accounts]]\nname = \"main\"\nbase_url = \" https://api.starmile.io\"\nclient_id = \"x\"\n",
            2,
            "has spaces around it",
        ),
        toml(
            check,
            "[[starmile.accounts]]\nname = \"main\"\nbase_url = \"{starmile}/?x=1\"\nclient_id = \"{client_id}\"\n",
            2,
            "must not carry a query or fragment",
        ),
        plus(check, "", 2, "must use https").config(Config::Text(format!(
            "{acct}\n[starshipit]\nbase_url = \"http://api.starshipit.com\"\n"
        ))),
        // Accounts: names, ids, the variables their secrets come from.
        toml(
            check,
            "[[starmile.accounts]]\nname = \"a b\"\nbase_url = \"https://api.starmile.io\"\nclient_id = \"x\"\n",
            2,
            "name must be letters, digits, '-' or '_'",
        ),
        toml(
            check,
            "[[starmile.accounts]]\nname = \"\"\nbase_url = \"https://api.starmile.io\"\nclient_id = \"x\"\n",
            2,
            "name must be letters",
        ),
        toml(check, &format!("{acct}{acct}"), 2, "the name is used twice"),
        toml(
            check,
            &format!("{}{}", account("a-b"), account("a_b")),
            2,
            "starmile accounts \"a-b\" and \"a_b\" would both read their client secret from $WAYBILL_STARMILE_A_B_CLIENT_SECRET: rename one, or give one its own client_secret_env",
        ),
        toml(
            check,
            &format!("{}{}", account("Syd"), account("syd")),
            2,
            "\"Syd\" and \"syd\" would both read",
        ),
        toml(
            check,
            &format!("{}{}client_secret_env = \"OTHER_SECRET\"\n", account("a-b"), account("a_b")),
            2,
            "the client secret is missing: set $OTHER_SECRET",
        ),
        plus(
            check,
            "\n[[starshipit.accounts]]\nname = \"m-1\"\n\n[[starshipit.accounts]]\nname = \"m_1\"\n",
            2,
            "starshipit accounts \"m-1\" and \"m_1\" would both read their API key from $WAYBILL_STARSHIPIT_M_1_API_KEY",
        ),
        toml(
            check,
            "[[starmile.accounts]]\nname = \"main\"\nbase_url = \"https://api.starmile.io\"\nclient_id = \"\"\n",
            2,
            "client_id is empty",
        ),
        toml(
            check,
            "[[starmile.accounts]]\nname = \"main\"\nbase_url = \"https://api.starmile.io\"\nclient_id = \" x\"\n",
            2,
            "client_id has spaces around it",
        ),
        toml(
            check,
            &a("client_secret_env = \"\"\n"),
            2,
            "\"\" is not an environment variable name for the client secret",
        ),
        toml(
            check,
            &a("client_secret_env = \"1BAD\"\n"),
            2,
            "\"1BAD\" is not an environment variable name",
        ),
        toml(check, &a("client_secret_env = \"A-B\"\n"), 2, "is not an environment variable name"),
        toml(
            check,
            &a("client_secret_file = \"nope.secret\"\n"),
            2,
            "cannot read the client secret file nope.secret",
        ),
        toml(
            check,
            &a("client_secret_file = \"empty.secret\"\n"),
            2,
            "the client secret file empty.secret is empty",
        )
        .file("empty.secret", "\n"),
        toml(check, &a("client_secret_file = \".\"\n"), 2, "cannot read the client secret file ."),
        cli(
            "config",
            check,
            2,
            "the client secret is missing: set $WAYBILL_STARMILE_MAIN_CLIENT_SECRET",
        )
        .env("WAYBILL_STARMILE_MAIN_CLIENT_SECRET", ""),
        cli("config", check, 2, "the API key is missing: set $WAYBILL_STARSHIPIT_API_KEY")
            .env("WAYBILL_STARSHIPIT_API_KEY", ""),
        toml(check, "", 2, "no Starmile account: add a [[starmile.accounts]] table"),
        toml(
            check,
            &ss("rate_limit_per_second = 0\n"),
            2,
            "starshipit.rate_limit_per_second is 0: use 1 to 1000",
        ),
        toml(
            check,
            &ss("rate_limit_per_second = 5000\n"),
            2,
            "starshipit.rate_limit_per_second is 5000",
        ),
        plus(
            check,
            "timezone = \"Mars/Olympus\"\n",
            2,
            "timezone \"Mars/Olympus\" is not an IANA time zone",
        ),
        // The store.
        plus(check, "", 2, "store.path is empty")
            .config(Config::Text(format!("[store]\npath = \"\"\n{acct}"))),
        plus(check, "", 2, "store.path \" x.db\" has spaces around it")
            .config(Config::Text(format!("[store]\npath = \" x.db\"\n{acct}"))),
        plus(check, "", 2, "store.path . is a folder")
            .config(Config::Text(format!("[store]\npath = \".\"\n{acct}"))),
        plus(
            check,
            "",
            2,
            "the folder no/such for the store no/such/waybill.db (store.path) does not exist",
        )
        .config(Config::Text(format!("[store]\npath = \"no/such/waybill.db\"\n{acct}"))),
        plus("orders list", "", 2, "no store at no-store.db (store.path)")
            .config(Config::Text(format!("[store]\npath = \"no-store.db\"\n{acct}"))),
        plus("sync --once", "", 2, "the folder no/such for the store")
            .config(Config::Text(format!("[store]\npath = \"no/such/waybill.db\"\n{acct}"))),
        plus(check, "", 2, "store.url is not a postgres:// URL").config(Config::Text(format!(
            "[store]\nurl = \"mysql://u:{STORE_PASSWORD}@db/prod\"\n{acct}"
        ))),
        plus(check, "", 2, "store.url is not text")
            .config(Config::Text(format!("[store]\nurl = {NUMERIC_SECRET}\n{acct}"))),
        cli("config", check, 2, "store.url is not text").env("WAYBILL_STORE__URL", NUMERIC_SECRET),
        cli("config", check, 2, "store.url does not parse (invalid port number)").env(
            "WAYBILL_STORE__URL",
            &format!("postgres://waybill:{STORE_PASSWORD}@db:99999/prod"),
        ),
        toml(
            check,
            &format!("[store]\nurl = \" postgres://waybill:{STORE_PASSWORD}@db/prod\"\n{acct}"),
            2,
            "store.url has spaces around it",
        ),
        cli("config", check, 2, "unknown value \"sometimes\" for `ssl_mode`").env(
            "WAYBILL_STORE__URL",
            &format!("postgres://waybill:{STORE_PASSWORD}@db/prod?sslmode=sometimes"),
        ),
        cli("config", check, 2, "store.pool_size is 0: use 1 to 1000")
            .env(
                "WAYBILL_STORE__URL",
                &format!("postgres://waybill:{STORE_PASSWORD}@127.0.0.1:1/prod"),
            )
            .env("WAYBILL_STORE__POOL_SIZE", "0"),
        cli("config", "store status", 1, "cannot connect to PostgreSQL at 127.0.0.1:1/prod").env(
            "WAYBILL_STORE__URL",
            &format!("postgres://waybill:{STORE_PASSWORD}@127.0.0.1:1/prod"),
        ),
        cli("config", "orders list", 1, "postgres://127.0.0.1:1/prod").env(
            "WAYBILL_STORE__URL",
            &format!("postgres://waybill:{STORE_PASSWORD}@127.0.0.1:1/prod"),
        ),
        plus(check, "", 2, "store.statement_timeout_seconds is 100000")
            .config(Config::Text(format!("[store]\nstatement_timeout_seconds = 100000\n{acct}"))),
        // [sync]: what `config check`, `sync` and `serve` refuse alike.
        plus(
            check,
            "\n[sync]\npage_size = 0\n",
            2,
            "sync.page_size is 0: Starmile allows 1 to 200",
        ),
        plus(check, "\n[sync]\npage_size = 500\n", 2, "sync.page_size is 500"),
        plus("sync --once", "\n[sync]\npage_size = 201\n", 2, "sync.page_size is 201"),
        plus(check, "\n[sync]\nrefresh_batch = 0\n", 2, "sync.refresh_batch is 0: use 1 to 10000"),
        plus("sync --once", "\n[sync]\nrefresh_batch = 0\n", 2, "sync.refresh_batch is 0"),
        plus(check, "\n[sync]\nrefresh_batch = 100000\n", 2, "sync.refresh_batch is 100000"),
        plus(check, "\n[sync]\npoll_interval_seconds = 0\n", 2, "sync.poll_interval_seconds is 0"),
        plus(
            check,
            "\n[sync]\npoll_interval_seconds = 9223372036854775807\n",
            2,
            "sync.poll_interval_seconds is 9223372036854775807: use 1 to 86400",
        ),
        plus(check, "\n[sync]\nlease_seconds = 0\n", 2, "sync.lease_seconds is 0"),
        plus(check, "\n[sync]\ncommit_rows = 0\n", 2, "sync.commit_rows is 0"),
        cli("config", check, 2, "sync.page_size is 0").env("WAYBILL_SYNC__PAGE_SIZE", "0"),
        cli("config", check, 2, "expected u32").env("WAYBILL_SYNC__PAGE_SIZE", "abc"),
        // [serve]: what `serve` refuses at start, `config check` refuses too.
        plus(
            check,
            "\n[serve]\nbody_limit_bytes = 10\n",
            2,
            "serve.body_limit_bytes is 10: use 1024 to 1073741824 (bytes)",
        ),
        plus("serve", "\n[serve]\nbody_limit_bytes = 10\n", 2, "serve.body_limit_bytes is 10"),
        plus(
            check,
            "\n[serve]\nbody_limit_bytes = 1099511627776\n",
            2,
            "serve.body_limit_bytes is 1099511627776",
        ),
        plus(
            check,
            "\n[serve]\npage_requests_per_minute = 0\n",
            2,
            "serve.page_requests_per_minute is 0",
        ),
        plus(
            "serve",
            "\n[serve]\npage_requests_per_minute = 0\n",
            2,
            "serve.page_requests_per_minute is 0",
        ),
        plus(check, "\n[serve]\npage_burst = 0\n", 2, "serve.page_burst is 0"),
        plus(
            check,
            "\n[serve]\nrequest_timeout_seconds = 0\n",
            2,
            "serve.request_timeout_seconds is 0",
        ),
        plus(
            check,
            "\n[serve]\nrequest_timeout_seconds = 9223372036854775807\n",
            2,
            "serve.request_timeout_seconds is 9223372036854775807",
        ),
        plus(
            check,
            "\n[serve]\nheader_read_timeout_seconds = 0\n",
            2,
            "serve.header_read_timeout_seconds is 0",
        ),
        plus(check, "\n[serve]\nmax_connections = 0\n", 2, "serve.max_connections is 0"),
        plus("serve", "\n[serve]\nmax_connections = 0\n", 2, "serve.max_connections is 0"),
        plus(
            check,
            "\n[serve]\nsync_stalled_after_seconds = 0\n",
            2,
            "serve.sync_stalled_after_seconds is 0",
        ),
        plus(
            check,
            "\n[serve]\nlisten = \"nowhere\"\n",
            2,
            "listen address \"nowhere\" has no port",
        ),
        plus(
            check,
            "\n[serve]\napi_keys_file = \"keys.txt\"\n",
            2,
            "serve: cannot read the API keys file keys.txt",
        ),
        plus(
            check,
            "\n[serve]\napi_keys_file = \"keys.txt\"\n",
            2,
            "the API keys file keys.txt holds no key",
        )
        .file("keys.txt", "\n\n"),
        plus(check, "\n[serve]\napi_keys_file = \"keys.txt\"\n", 0, "configuration ok")
            .file("keys.txt", format!("{FILE_SECRET}\n")),
        plus(
            check,
            "\n[serve]\nwebhook_secret_file = \"hook.txt\"\n",
            2,
            "cannot read the webhook secret file hook.txt",
        ),
        plus(
            check,
            "\n[serve]\nwebhook_token_file = \"token.txt\"\n",
            2,
            "the webhook token file token.txt is empty",
        )
        .file("token.txt", ""),
        cli("config", check, 2, "the StarShipIT webhook token must be at least 16")
            .env("WAYBILL_STARSHIPIT_WEBHOOK_TOKEN", "short"),
        cli(
            "config",
            "serve --listen 127.0.0.1:0",
            2,
            "serve: no API key configured: set $WAYBILL_API_KEYS",
        )
        .env("WAYBILL_API_KEYS", " , "),
        cli("config", check, 0, "`waybill serve` also needs an API key")
            .env("WAYBILL_API_KEYS", ""),
        cli("config", check, 2, "serve.body_limit_bytes is 10")
            .env("WAYBILL_SERVE__BODY_LIMIT_BYTES", "10"),
        cli("config", check, 2, "store.path is empty").env("WAYBILL_STORE__PATH", ""),
        // Other variables the command line reads.
        cli("config", "timeline X", 2, "Nowhere/Land").env("WAYBILL_TZ", "Nowhere/Land"),
        cli("config", "orders list", 2, "invalid value 'xml' for '--log-format")
            .env("WAYBILL_LOG_FORMAT", "xml"),
        cli("config", "orders list", 2, "missing.toml does not exist")
            .env("WAYBILL_CONFIG", "missing.toml"),
        cli("config", "config check", 0, "ignoring RUST_LOG=\"[[[\"").env("RUST_LOG", "[[["),
        // Files that are not what they are named as.
        cli("config", "timeline X --db notes.txt", 1, "cannot open the store at notes.txt")
            .file("notes.txt", "not a database, just notes\n".repeat(200)),
        cli("config", "orders list --db notes.txt", 1, "file is not a database")
            .file("notes.txt", "not a database, just notes\n".repeat(200)),
        cli(
            "config",
            "--config notes.txt config check",
            2,
            "notes.txt: TOML parse error at line 1",
        )
        .file("notes.txt", "not a database, just notes\n"),
    ]
}

/// Import files (`orders import FILE`).
fn import_cases() -> Vec<Cli> {
    let i = |file: &str, code: i32, says: &str| {
        cli("import", &format!("orders import {file}"), code, says).writes()
    };
    let header = "reference,service_id,merchant_tracking_number,weight\n";
    vec![
        cli("import", "orders import missing.csv", 2, "missing.csv"),
        cli("import", "orders import .", 2, "."),
        i("orders.txt", 2, "orders.txt").file("orders.txt", header),
        i("orders.csv", 2, "the CSV header has no \"reference\" column").file("orders.csv", ""),
        i("orders.csv", 0, "0 rows").file("orders.csv", header),
        i("orders.csv", 4, "line 2").file("orders.csv", format!("{header}IM-1,5,IM-1-A,heavy\n")),
        i("orders.csv", 4, "line 2").file("orders.csv", format!("{header}IM-2,five,IM-2-A,1kg\n")),
        i("orders.csv", 4, "line 2").file("orders.csv", format!("{header},5,IM-3-A,1kg\n")),
        i("orders.csv", 4, "line 2").file("orders.csv", format!("{header}IM-4,5,,1kg\n")),
        i("orders.csv", 4, "line 2").file("orders.csv", format!("{header}IM-5,0,IM-5-A,1kg\n")),
        i("orders.csv", 4, "line 2").file("orders.csv", format!("{header}IM-6,5,IM-6-A,1e300kg\n")),
        i("orders.csv", 4, "line 2").file("orders.csv", format!("{header}IM-7,5,IM-7-A,-1\n")),
        i("orders.csv", 4, "line 3").file("orders.csv", format!("{header}IM-8,5,IM-8-A,1kg\nIM-8,7,IM-8-B,1kg\n")),
        i("orders.csv", 2, "the CSV header has no \"reference\" column").file("orders.csv", "service_id,merchant_tracking_number\n5,A\n"),
        i("orders.jsonl", 4, "line 1").file("orders.jsonl", "{not json\n"),
        i("orders.jsonl", 4, "line 1").file("orders.jsonl", "{\"reference\":5,\"service_id\":5,\"merchant_tracking_number\":\"J-1\"}\n"),
        i("orders.jsonl", 4, "line 1").file("orders.jsonl", "[1,2,3]\n"),
        i("orders.jsonl", 4, "line 2").file("orders.jsonl", "{\"reference\":\"J-3\",\"service_id\":5,\"merchant_tracking_number\":\"J-3-A\"}\n{\"reference\":\"J-4\",\"service_id\":\"x\",\"merchant_tracking_number\":\"J-4-A\"}\n"),
        i("orders.jsonl", 0, "0 rows").file("orders.jsonl", "\n\n"),
        i("orders.csv", 4, "line 2").file("orders.csv", format!("{header}IM-10,99999,IM-10-A,1kg\n")),
        i("orders.csv", 4, "line 2").file("orders.csv", format!("{header}IM-11,5,{},1kg\n", "T".repeat(300))),
        // Integrity rules of the import (issue 13): a misspelt column names the closest one;
        // a padded reference is refused; an invalid-UTF-8 line is reported by number; a BOM
        // is read; an unknown JSONL key names the closest one.
        i("orders.csv", 2, "weigth").file("orders.csv", "reference,service_id,merchant_tracking_number,weigth\nIM-12,5,IM-12-A,1kg\n"),
        i("orders.csv", 2, "did you mean \"weight\"").file("orders.csv", "reference,service_id,merchant_tracking_number,weigth\nIM-13,5,IM-13-A,1kg\n"),
        i("orders.csv", 4, "whitespace").file("orders.csv", format!("{header}\" IM-14 \",5,IM-14-A,1kg\n")),
        i("orders.csv", 4, "line 2").file("orders.csv", [header.as_bytes(), b"IM-15,5,IM-15-\xff,1kg\n"].concat()),
        i("orders.jsonl", 4, "service id \"x\" is invalid").file("orders.jsonl", "\u{feff}{\"reference\":\"J-5\",\"service_id\":\"x\",\"merchant_tracking_number\":\"J-5-A\"}\n"),
        i("orders.jsonl", 4, "weigth").file("orders.jsonl", "{\"reference\":\"J-6\",\"service_id\":5,\"merchant_tracking_number\":\"J-6-A\",\"weigth\":\"1kg\"}\n"),
        i("orders.csv", 2, "names \"reference\" twice").file("orders.csv", "reference,service_id,merchant_tracking_number,reference\nIM-16,5,IM-16-A,IM-16\n"),
    ]
}

/// One HTTP case.
struct Http {
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    /// Send the API key.
    key: bool,
    status: u16,
    says: String,
}

fn http(method: &'static str, path: &str, status: u16, says: &str) -> Http {
    Http {
        method,
        path: path.to_owned(),
        headers: Vec::new(),
        body: Vec::new(),
        key: true,
        status,
        says: says.to_owned(),
    }
}

impl Http {
    fn json(mut self, body: &str) -> Self {
        self.headers.push(("content-type", "application/json".into()));
        self.body = body.as_bytes().to_vec();
        self
    }
    fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        if !content_type.is_empty() {
            self.headers.push(("content-type", content_type.into()));
        }
        self.body = body.into();
        self
    }
    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }
    fn says(mut self, says: &str) -> Self {
        self.says = says.to_owned();
        self
    }
    fn anonymous(mut self) -> Self {
        self.key = false;
        self
    }
    /// A StarShipIT delivery signed with the webhook secret.
    fn signed(self, body: &str) -> Self {
        let secret = secrecy::SecretString::from(WEBHOOK_SECRET);
        let signature = waybill_starshipit::webhook::sign(&secret, body.as_bytes());
        self.json(body).anonymous().header("x-starshipit-signature", &signature)
    }
}

/// The HTTP cases: `/v1/*`, the page, the webhooks, the operations routes.
fn http_cases() -> Vec<Http> {
    let order =
        |body: &str, status: u16, says: &str| http("POST", "/v1/orders", status, says).json(body);
    let ok_items = "[{\"merchant_tracking_number\":\"H-1\"}]";
    let long = "X".repeat(5000);
    let delivery = "{\"tracking_number\":\"HOOK-1\",\"tracking_status\":\"InTransit\",\"last_updated_date\":\"2026-06-11T04:43:42Z\"}";
    vec![
        // API keys.
        http("GET", "/v1/orders", 401, "unauthorized").anonymous(),
        http("GET", "/v1/orders", 401, "unauthorized").anonymous().header("authorization", "Bearer not-a-key"),
        http("GET", "/v1/orders", 401, "unauthorized").anonymous().header("authorization", "Bearer "),
        http("GET", "/v1/orders", 401, "unauthorized").anonymous().header("authorization", "Basic dXNlcjpwdw=="),
        http("GET", "/v1/orders", 401, "unauthorized").anonymous().header("authorization", &format!("Bearer {}", "k".repeat(8000))),
        http("GET", "/v1/orders", 401, "unauthorized").anonymous().header("x-api-key", "nope"),
        http("GET", "/v1/orders", 401, "unauthorized").anonymous().header("x-api-key", ""),
        http("GET", "/v1/orders", 401, "unauthorized").anonymous().header("authorization", &format!("Bearer  {API_KEY}x")),
        http("POST", "/v1/orders", 401, "unauthorized").anonymous().json("{}"),
        http("GET", "/v1/services", 401, "unauthorized").anonymous(),
        http("GET", "/v1/parcels/X/label", 401, "unauthorized").anonymous(),
        // Creating orders: JSON, types, sizes, media types.
        order("{not json", 400, "invalid_request"),
        order("", 400, "invalid_request"),
        order("null", 422, "validation_failed"),
        order("[]", 422, "validation_failed"),
        order("\"order\"", 422, "validation_failed"),
        order("{}", 422, "validation_failed"),
        order(&format!("{{\"reference\":123,\"service_id\":5,\"items\":{ok_items}}}"), 422, "reference"),
        order(&format!("{{\"reference\":\"H-1\",\"service_id\":\"5\",\"items\":{ok_items}}}"), 422, "service_id"),
        order(&format!("{{\"reference\":\"H-1\",\"service_id\":-1,\"items\":{ok_items}}}"), 422, "service_id"),
        order(&format!("{{\"reference\":\"H-1\",\"service_id\":0,\"items\":{ok_items}}}"), 422, "service_id"),
        order(&format!("{{\"reference\":\"H-1\",\"service_id\":1e300,\"items\":{ok_items}}}"), 422, "service_id"),
        order(&format!("{{\"reference\":\"H-1\",\"service_id\":4294967296,\"items\":{ok_items}}}"), 422, "service_id"),
        order(&format!("{{\"reference\":\"H-1\",\"service_id\":5.5,\"items\":{ok_items}}}"), 422, "service_id"),
        order("{\"reference\":\"H-1\",\"service_id\":5,\"items\":{}}", 422, "items"),
        order("{\"reference\":\"H-1\",\"service_id\":5,\"items\":[]}", 422, "items"),
        order("{\"reference\":\"H-1\",\"service_id\":5,\"items\":[{}]}", 422, "items"),
        order("{\"reference\":\"H-1\",\"service_id\":5,\"items\":[{\"merchant_tracking_number\":5}]}", 422, "items"),
        order("{\"reference\":\"H-1\",\"service_id\":5,\"items\":[{\"merchant_tracking_number\":\"\"}]}", 422, "merchant_tracking_number"),
        order(&format!("{{\"reference\":\"\",\"service_id\":5,\"items\":{ok_items}}}"), 422, "reference"),
        order(&format!("{{\"reference\":\"{}\",\"service_id\":5,\"items\":{ok_items}}}", "R".repeat(3000)), 422, "reference"),
        order(&format!("{{\"reference\":\"H\\n1\",\"service_id\":5,\"items\":{ok_items}}}"), 422, "reference"),
        order(&format!("{{\"reference\":\"H-1\",\"service_id\":5,\"items\":{ok_items},\"bogus\":1}}"), 422, "bogus"),
        order(&format!("{{\"reference\":\"H-1\",\"service_id\":5,\"items\":{ok_items}}} trailing"), 400, "invalid_request"),
        order(&format!("{}1{}", "[".repeat(200), "]".repeat(200)), 422, "invalid type: sequence"),
        http("POST", "/v1/orders", 415, "unsupported_media_type").body("text/plain", "{}"),
        http("POST", "/v1/orders", 415, "unsupported_media_type").body("", "{}"),
        http("POST", "/v1/orders", 415, "unsupported_media_type").body("application/xml", "<order/>"),
        http("POST", "/v1/orders", 415, "unsupported_media_type").body("application/x-www-form-urlencoded", "reference=H-1"),
        http("POST", "/v1/orders", 400, "invalid_request").body("application/json", b"{\"reference\":\"\xff\xfe\"}".to_vec()),
        http("POST", "/v1/orders", 413, "payload_too_large").json(&format!("{{\"reference\":\"{}\"}}", "Z".repeat(100_000))),
        // Listing and reading orders: query parameters and paths.
        http("GET", "/v1/orders?limit=0", 400, "limit"),
        http("GET", "/v1/orders?limit=-1", 400, "limit"),
        http("GET", "/v1/orders?limit=abc", 400, "limit"),
        http("GET", "/v1/orders?limit=1e3", 400, "limit"),
        http("GET", "/v1/orders?limit=99999999999999999999", 400, "limit"),
        http("GET", "/v1/orders?limit=5000", 400, "limit"),
        http("GET", "/v1/orders?status=lost", 400, "status"),
        http("GET", "/v1/orders?status=", 400, "status"),
        http("GET", "/v1/orders?service=0", 400, "service"),
        http("GET", "/v1/orders?service=abc", 400, "service"),
        http("GET", "/v1/orders?after=%20PO-1", 400, "after: partner order reference"),
        http("GET", "/v1/orders?limit=%ff", 400, "limit"),
        http("GET", "/v1/orders/PO-NOPE", 404, "not_found"),
        http("GET", &format!("/v1/orders/{long}"), 400, "at most 100"),
        http("GET", "/v1/orders/%20PO-1%20", 400, "remove the leading or trailing whitespace"),
        http("GET", "/v1/orders/%ff%fe", 400, "the URL's reference is not valid UTF-8"),
        http("GET", "/v1/orders/a%00b", 400, "control characters are not allowed"),
        http("GET", "/v1/parcels/NOPE-1/timeline", 404, "not_found"),
        http("GET", "/v1/parcels/%ff/timeline", 400, "the URL's number is not valid UTF-8"),
        http("GET", &format!("/v1/parcels/{long}/timeline"), 404, "not_found"),
        http("GET", "/v1/track/NOPE-1", 404, "not_found"),
        http("GET", "/v1/track/%ff", 400, "the URL's number is not valid UTF-8"),
        http("GET", "/v1/rates?service=abc", 400, "service"),
        http("GET", "/v1/rates?service=0", 400, "service"),
        http("GET", "/v1/rates?weight=heavy", 400, "weight"),
        http("GET", "/v1/rates?weight=-1", 400, "weight"),
        http("GET", "/v1/rates?weight=1e300kg", 400, "weight"),
        // Parcel changes.
        http("PATCH", "/v1/orders/PO-NOPE/parcels/TRK-1", 400, "invalid_request").json("{not json"),
        http("PATCH", "/v1/orders/PO-NOPE/parcels/TRK-1", 422, "weight_grams").json("{\"weight_grams\":-1}"),
        http("PATCH", "/v1/orders/PO-NOPE/parcels/TRK-1", 422, "weight_grams").json("{\"weight_grams\":\"heavy\"}"),
        http("PATCH", "/v1/orders/PO-NOPE/parcels/TRK-1", 422, "weight_grams").json("{\"weight_grams\":99999999999}"),
        http("PATCH", "/v1/orders/PO-NOPE/parcels/TRK-1", 422, "dimensions").json("{\"dimensions\":\"10x10\"}"),
        http("PATCH", "/v1/orders/PO-NOPE/parcels/TRK-1", 422, "package_type").json("{\"package_type\":\"bogus\"}"),
        http("PATCH", "/v1/orders/PO-NOPE/parcels/TRK-1", 415, "unsupported_media_type").body("text/plain", "{}"),
        http("POST", "/v1/orders/PO-NOPE/parcels", 422, "products").json("{\"merchant_tracking_number\":\"N-1\"}"),
        http("POST", "/v1/orders/PO-NOPE/parcels", 422, "products").json("{\"merchant_tracking_number\":\"N-1\",\"products\":[]}"),
        http("POST", "/v1/orders/PO-NOPE/parcels", 400, "invalid_request").json("{\"merchant_tracking_number\": "),
        http("POST", "/v1/orders/PO-NOPE/parcels/TRK-1/split", 400, "new_reference: partner order reference must not be empty").json("{\"new_reference\":\"\"}"),
        http("POST", "/v1/orders/PO-NOPE/parcels/TRK-1/split", 422, "new_reference").json("{}"),
        http("POST", "/v1/orders/PO-NOPE/parcels/TRK-1/cancel", 404, "not_found").json("{}"),
        http("GET", "/v1/parcels/NOPE-1/label", 404, "not_found"),
        // Methods and routes that do not exist.
        http("DELETE", "/v1/orders", 405, "method_not_allowed"),
        http("PUT", "/v1/orders/PO-1", 405, "method_not_allowed"),
        http("GET", "/v1/nothing-here", 404, "not_found"),
        http("GET", "/v2/orders", 404, "Page not found"),
        http("GET", "/v1/orders/PO-1/parcels/X/split", 405, "method_not_allowed"),
        // Webhooks: signatures, tokens, bodies.
        http("POST", "/webhooks/starshipit", 401, "bad_signature").json(delivery).anonymous(),
        http("POST", "/webhooks/starshipit", 401, "bad_signature").json(delivery).anonymous().header("x-starshipit-signature", "not-base64!"),
        http("POST", "/webhooks/starshipit", 401, "bad_signature").json(delivery).anonymous().header("x-starshipit-signature", "c2lnbmF0dXJl"),
        http("POST", "/webhooks/starshipit", 401, "bad_signature").json(delivery).anonymous().header("x-starshipit-signature", &"a".repeat(10_000)),
        http("POST", "/webhooks/starshipit", 401, "bad_signature").json(&delivery.replace("HOOK-1", "HOOK-2")).anonymous().header("x-starshipit-signature", &waybill_starshipit::webhook::sign(&secrecy::SecretString::from(WEBHOOK_SECRET), delivery.as_bytes())),
        http("POST", "/webhooks/starshipit", 400, "invalid_request").signed("{not json"),
        http("POST", "/webhooks/starshipit", 200, "\"stored\":false").signed("{}"),
        http("POST", "/webhooks/starshipit", 200, "\"stored\":false").signed("{\"tracking_number\":5}"),
        http("POST", "/webhooks/starshipit", 200, "\u{1}").signed("{\"tracking_number\":\"HOOK-3\",\"tracking_status\":\"InTransit\",\"last_updated_date\":\"not a date\"}").says("\"stored\":true"),
        http("POST", "/webhooks/starshipit", 200, "\u{1}").signed("{\"tracking_number\":\"HOOK-4\",\"tracking_status\":\"InTransit\",\"last_updated_date\":\"9999-99-99T99:99:99Z\"}").says("\"stored\":true"),
        http("POST", "/webhooks/starshipit", 200, "\"stored\":false").signed("[]"),
        http("POST", "/webhooks/starshipit", 400, "webhook body is not a StarShipIT tracking payload").signed("\u{feff}{}"),
        http("POST", "/webhooks/starshipit", 413, "payload_too_large").signed(&format!("{{\"x\":\"{}\"}}", "Z".repeat(100_000))),
        http("POST", &format!("/webhooks/starshipit/{}", "wrong-token-0123456789"), 401, "the token in the webhook URL is wrong").json(delivery).anonymous(),
        http("POST", "/webhooks/starshipit/short", 401, "the token in the webhook URL is wrong").json(delivery).anonymous(),
        http("POST", &format!("/webhooks/starshipit/{}", "t".repeat(5000)), 401, "the token in the webhook URL is wrong").json(delivery).anonymous(),
        http("POST", &format!("/webhooks/starshipit/{WEBHOOK_TOKEN}"), 400, "invalid_request").json("{not json").anonymous(),
        http("POST", &format!("/webhooks/starshipit/{WEBHOOK_TOKEN}"), 200, "\"stored\":false").json("{}").anonymous(),
        http("GET", "/webhooks/starshipit", 405, "it takes POST"),
        // The tracking page.
        http("GET", "/track/NOPE-1", 404, "We can't find that parcel").anonymous(),
        http("GET", "/track/%3Cscript%3Ealert(1)%3C%2Fscript%3E", 404, "&lt;script&gt;").anonymous(),
        http("GET", &format!("/track/{long}"), 404, "We can't find that parcel").anonymous(),
        http("GET", "/track/%ff", 400, "the URL's number is not valid UTF-8").anonymous(),
        http("GET", "/track?number=", 200, "Track a parcel").anonymous(),
        http("GET", "/track?number=%ff", 404, "We can't find that parcel").anonymous(),
        http("GET", "/track?number=NOPE&number=NOPE2", 400, "duplicate field `number`").anonymous(),
        http("GET", &format!("/track?number={long}"), 404, "We can't find that parcel").anonymous(),
        http("POST", "/track/NOPE-1", 405, "it takes GET,HEAD").anonymous(),
        // Operations.
        http("GET", "/readyz?strict=bogus", 400, "strict").anonymous(),
        http("POST", "/healthz", 405, "it takes GET,HEAD").anonymous(),
        http("GET", "/metrics?x=%ff", 200, "waybill_http_requests_total").anonymous(),
    ]
}

/// Raw HTTP/1.1 requests no client library would send.
fn raw_cases() -> Vec<(&'static str, Vec<u8>, u16)> {
    vec![
        ("garbage request line", b"HELLO\r\n\r\n".to_vec(), 400),
        (
            "header without a colon",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n".to_vec(),
            400,
        ),
        (
            "huge header",
            format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(1_000_000))
                .into_bytes(),
            431,
        ),
        ("invalid percent escape", b"GET /v1/orders/%zz HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 401),
        (
            "bad content-length",
            b"POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".to_vec(),
            400,
        ),
        (
            "bad transfer-encoding",
            b"POST /v1/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n".to_vec(),
            400,
        ),
        ("non-UTF-8 path", b"GET /track/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), 400),
        ("HTTP/0.9", b"GET /healthz\r\n\r\n".to_vec(), 400),
    ]
}

/// Every known secret value configured for the cases.
struct Secrets(Vec<String>);

impl Secrets {
    fn leaked<'a>(&'a self, text: &str) -> Option<&'a str> {
        self.0.iter().map(String::as_str).find(|s| text.contains(s))
    }
}

/// What a case left wrong, if anything.
type Verdict = Result<(), String>;

/// The case directory's shared pieces: the sandboxes' addresses and credentials, a migrated
/// store, the environment every case runs with.
struct Harness {
    app: TestApp,
    shared_db: PathBuf,
    env: Vec<(String, String)>,
    secrets: Secrets,
}

impl Harness {
    fn good_config(&self) -> String {
        format!(
            "[store]\npath = {:?}\n\n{}\n[starshipit]\nbase_url = \"{{starshipit}}\"\nrate_limit_per_second = 20\n",
            self.shared_db,
            account("main"),
        )
    }

    fn expand(&self, text: &str) -> String {
        let partner = &self.app.starmile.partners()[0];
        text.replace("{starmile}", &self.app.starmile.base_url())
            .replace("{starshipit}", &self.app.starshipit.base_url())
            .replace("{client_id}", &partner.client_id)
            .replace("{db}", &self.shared_db.display().to_string())
    }

    async fn run(&self, case: &Cli, dir: &Path) -> Verdict {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let config = match &case.config {
            Config::Good => Some(self.good_config()),
            Config::None => None,
            Config::Text(text) => Some(text.clone()),
            Config::GoodPlus(extra) => Some(format!("{}{extra}", self.good_config())),
        };
        let mut expected: BTreeSet<String> = BTreeSet::new();
        if let Some(text) = config {
            std::fs::write(dir.join("waybill.toml"), self.expand(&text))
                .map_err(|e| e.to_string())?;
            expected.insert("waybill.toml".into());
        }
        for (name, contents) in &case.files {
            std::fs::write(dir.join(name), contents).map_err(|e| e.to_string())?;
            expected.insert(name.clone());
        }
        let mut cmd = tokio::process::Command::new(BIN);
        cmd.current_dir(dir).args(&case.args).kill_on_drop(true).stdin(Stdio::null());
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("WAYBILL_")) {
            cmd.env_remove(k);
        }
        cmd.env("RUST_LOG", "warn").env("COLUMNS", "200");
        for (k, v) in self.env.iter().chain(&case.env) {
            cmd.env(k, v);
        }
        let output = tokio::time::timeout(CASE_TIMEOUT, cmd.output())
            .await
            .map_err(|_| format!("did not finish within {CASE_TIMEOUT:?}"))?
            .map_err(|e| format!("did not run: {e}"))?;
        let code = output.status.code().unwrap_or(-1);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let all = format!("{stdout}{stderr}");
        let mut wrong = Vec::new();
        if code == 101 || stderr.contains("panicked at") {
            wrong.push("panicked".to_owned());
        }
        if code != case.code {
            wrong.push(format!("exit {code}, expected {}", case.code));
        }
        if !all.contains(&case.says) {
            wrong.push(format!("does not say {:?}", case.says));
        }
        if let Some(secret) = self.secrets.leaked(&all) {
            wrong.push(format!("printed the secret {secret:?}"));
        }
        if code != 0 {
            if let Some(first) = stderr.lines().find_map(|l| l.strip_prefix("error: ")) {
                if !starts_lowercase(first) {
                    wrong.push(format!("the message does not start in lowercase: {first:?}"));
                }
            } else if !case.args.iter().any(|a| a == "--json") {
                wrong.push("no `error:` line on stderr".into());
            }
            if !case.writes {
                let left: BTreeSet<String> = std::fs::read_dir(dir)
                    .map_err(|e| e.to_string())?
                    .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                    .collect();
                let created: Vec<&String> = left.difference(&expected).collect();
                if !created.is_empty() {
                    wrong.push(format!("a failed command created {created:?}"));
                }
            }
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{}\n      stdout: {}\n      stderr: {}",
                wrong.join("; "),
                clip(&stdout),
                clip(&stderr)
            ))
        }
    }
}

/// Messages start in lowercase, but for the names of things.
fn starts_lowercase(message: &str) -> bool {
    const PROPER: [&str; 6] = ["Starmile", "StarShipIT", "PostgreSQL", "SQLite", "TOML", "HS code"];
    !message.starts_with(|c: char| c.is_ascii_uppercase())
        || PROPER.iter().any(|p| message.starts_with(p))
}

fn clip(text: &str) -> String {
    let text = text.trim().replace('\n', "\n              ");
    if text.chars().count() > 700 {
        format!("{}…", text.chars().take(700).collect::<String>())
    } else {
        text
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_is_refused_clearly_without_a_panic_or_a_leaked_secret() {
    let app = spawn_app(BIN, AppOptions::default()).await;
    let partner = app.starmile.partners()[0].clone();
    let env: Vec<(String, String)> = vec![
        ("WAYBILL_STARMILE_MAIN_CLIENT_SECRET".into(), partner.client_secret.clone()),
        ("WAYBILL_STARSHIPIT_API_KEY".into(), app.starshipit.api_key().to_string()),
        (
            "WAYBILL_STARSHIPIT_SUBSCRIPTION_KEY".into(),
            app.starshipit.production_subscription_key().to_string(),
        ),
        ("WAYBILL_API_KEYS".into(), API_KEY.into()),
        ("WAYBILL_STARSHIPIT_WEBHOOK_SECRET".into(), WEBHOOK_SECRET.into()),
        ("WAYBILL_STARSHIPIT_WEBHOOK_TOKEN".into(), WEBHOOK_TOKEN.into()),
    ];
    let secrets = Secrets(
        env.iter()
            .map(|(_, v)| v.clone())
            .chain(
                [STORE_PASSWORD, URL_PASSWORD, NUMERIC_SECRET, UNQUOTED_SECRET, FILE_SECRET]
                    .map(String::from),
            )
            .chain(
                [
                    "corpus-inline-secret",
                    "corpus-inline-sub",
                    "corpus-inline-hook",
                    "corpus-inline-outbound",
                ]
                .map(String::from),
            )
            .collect(),
    );
    let shared_db = app.path().join("shared.db");
    let harness = Harness { shared_db, env, secrets, app };

    // The store every read case reads: migrated once, empty.
    let migrate = cli("setup", "store migrate", 0, "schema version").writes();
    harness
        .run(&migrate, &harness.app.path().join("setup"))
        .await
        .expect("the shared store is created");

    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    let cases: Vec<Cli> =
        cli_cases().into_iter().chain(config_cases()).chain(import_cases()).collect();
    let root = harness.app.path().join("cases");
    let results: Vec<(String, &str, Verdict)> = futures::stream::iter(cases.iter().enumerate())
        .map(|(n, case)| {
            let dir = root.join(format!("{n:03}"));
            let harness = &harness;
            async move {
                let verdict = harness.run(case, &dir).await;
                (format!("{} `{}`", case.category, case.args.join(" ")), case.category, verdict)
            }
        })
        .buffer_unordered(6)
        .collect()
        .await;
    for (name, category, verdict) in results {
        *counts.entry(category).or_default() += 1;
        if let Err(why) = verdict {
            failures.push(format!("{name}: {why}"));
        }
    }

    // HTTP: the real `waybill serve`, its log kept to check for panics and secrets.
    let log_path = harness.app.path().join("serve.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let server = serve_support::start_with_stderr(
        &harness.app,
        &[
            ("WAYBILL_SERVE__SYNC", "false"),
            ("WAYBILL_SERVE__BODY_LIMIT_BYTES", "65536"),
            ("WAYBILL_SERVE__PAGE_REQUESTS_PER_MINUTE", "100000"),
            ("WAYBILL_SERVE__PAGE_BURST", "100000"),
            ("WAYBILL_STARSHIPIT_WEBHOOK_TOKEN", WEBHOOK_TOKEN),
            ("WAYBILL_LOG", "info"),
        ],
        Stdio::from(log),
    )
    .await;
    for case in http_cases() {
        *counts.entry("http").or_default() += 1;
        let name = format!("http {} {}", case.method, clip(&case.path));
        if let Err(why) = run_http(&server, &case, &harness.secrets).await {
            failures.push(format!("{name}: {why}"));
        }
    }
    let addr = server.base.trim_start_matches("http://").to_owned();
    for (name, request, status) in raw_cases() {
        *counts.entry("http").or_default() += 1;
        if let Err(why) = run_raw(&server, &addr, &request, status).await {
            failures.push(format!("http raw {name}: {why}"));
        }
    }
    let (code, _) = server.terminate().await;
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    if code != Some(0) {
        failures.push(format!("serve exited {code:?} after the HTTP cases"));
    }
    if log.contains("panicked at") {
        failures.push(format!("serve's log shows a panic: {}", clip(&log)));
    }
    if let Some(secret) = harness.secrets.leaked(&log) {
        failures.push(format!("serve's log printed the secret {secret:?}"));
    }

    let total: usize = counts.values().sum();
    println!("bad-input corpus: {total} cases, {} failed", failures.len());
    for (category, n) in &counts {
        println!("  {category:<8} {n}");
    }
    assert!(total >= 250, "the corpus holds at least 250 cases, not {total}");
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

async fn run_http(server: &serve_support::Server, case: &Http, secrets: &Secrets) -> Verdict {
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut request = server.http.request(method, server.url(&case.path));
    if case.key {
        request = request.bearer_auth(API_KEY);
    }
    for (name, value) in &case.headers {
        request = request.header(*name, value.as_str());
    }
    if !case.body.is_empty() {
        request = request.body(case.body.clone());
    }
    let response = request.send().await.map_err(|e| format!("no answer: {e}"))?;
    let status = response.status().as_u16();
    let headers = format!("{:?}", response.headers());
    let body = response.text().await.unwrap_or_default();
    let mut wrong = Vec::new();
    if status != case.status {
        wrong.push(format!("status {status}, expected {}", case.status));
    }
    if !body.contains(&case.says) {
        wrong.push(format!("does not say {:?}", case.says));
    }
    if let Some(secret) = secrets.leaked(&format!("{headers}{body}")) {
        wrong.push(format!("answered with the secret {secret:?}"));
    }
    still_answers(server, &mut wrong).await;
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n      body: {}", wrong.join("; "), clip(&body)))
    }
}

async fn run_raw(
    server: &serve_support::Server,
    addr: &str,
    request: &[u8],
    status: u16,
) -> Verdict {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    // The server may answer (and close) before the whole request is written.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    let got = answer.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok());
    let mut wrong = Vec::new();
    if got != Some(status) {
        wrong.push(format!(
            "answered {:?}, expected {status}",
            answer.lines().next().unwrap_or("nothing")
        ));
    }
    still_answers(server, &mut wrong).await;
    if wrong.is_empty() { Ok(()) } else { Err(wrong.join("; ")) }
}

async fn still_answers(server: &serve_support::Server, wrong: &mut Vec<String>) {
    // A new connection: the case's own may have been closed by the server (a 413 mid-body),
    // and a pooled one would say so rather than whether the server answers.
    let fresh = reqwest::Client::builder().pool_max_idle_per_host(0).build();
    let Ok(fresh) = fresh else { return wrong.push("no HTTP client".into()) };
    match fresh.get(server.url("/healthz")).send().await {
        Ok(r) if r.status() == 200 => {}
        other => wrong.push(format!("/healthz no longer answers 200: {other:?}")),
    }
}
