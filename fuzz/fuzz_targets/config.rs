//! `waybill.toml`: parsed as `Config::load` parses it (defaults, then the file), then checked
//! as `config check` and `serve` check it.
#![no_main]
use figment::{
    Figment,
    providers::{Format, Serialized, Toml},
};
use waybill::config::Config;
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parsed: Result<Config, _> =
        Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(text)).extract();
    if let Ok(config) = parsed {
        let _ = config.resolve();
        let _ = config.resolve_serve(None);
        let _ = config.resolve_starshipit();
    }
});
