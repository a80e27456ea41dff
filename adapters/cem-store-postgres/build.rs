//! Rebuilds the crate when a migration is added: `sqlx::migrate!` embeds the directory's files
//! but cannot tell cargo to watch the directory itself.
//!
//! Also sets the `cem_postgres` cfg when `CEM_TEST_POSTGRES_URL` names a server at build time:
//! the tests that need one are marked ignored without it, so a run on a machine without
//! PostgreSQL reports them as ignored, with the reason, instead of passing them.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-env-changed=CEM_TEST_POSTGRES_URL");
    println!("cargo::rustc-check-cfg=cfg(cem_postgres)");
    if std::env::var("CEM_TEST_POSTGRES_URL").is_ok_and(|url| !url.trim().is_empty()) {
        println!("cargo:rustc-cfg=cem_postgres");
    }
}
