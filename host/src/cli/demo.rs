//! The demo organization that `bazaar serve --demo` makes on first start.

use std::path::Path;

use rand::Rng;
use rand::distributions::Alphanumeric;
use serde::{Deserialize, Serialize};

use bazaar::platform::credentials::{self};
use bazaar::platform::orgs;
use bazaar::platform::{PlatformError, ScopeSet, projects, tasks};
use bazaar::store::Store;

/// Sign-in details of the demo, kept in the data folder (mode 0600) so later starts can print them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoCredentials {
    pub organization: String,
    pub email: String,
    pub password: String,
    pub api_key: String,
}

pub const DEMO_EMAIL: &str = "admin@demo.bazaar.test";
const FILE: &str = "demo-credentials.json";

/// Makes the demo organization if it does not exist yet and returns how to sign in to it.
pub async fn ensure(store: &Store, data_dir: &Path) -> Result<DemoCredentials, PlatformError> {
    let file = data_dir.join(FILE);
    if orgs::find_by_slug(store, "demo").await?.is_some() {
        let saved = std::fs::read_to_string(&file)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
        return saved.ok_or_else(|| {
            PlatformError::Internal(format!(
                "the demo organization exists but {} is missing; remove the data folder to start over",
                file.display()
            ))
        });
    }
    let password: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(16)
        .map(char::from)
        .collect();
    let (org, user) = orgs::create_with_owner(store, "Demo", DEMO_EMAIL, &password).await?;
    let key = credentials::create_api_key(store, &org.id, "demo", ScopeSet::all(), Some(&user.id)).await?;
    let website = projects::create(
        store,
        &org.id,
        "Website relaunch",
        "New pages for the spring launch",
    )
    .await?;
    for (title, labels) in [
        ("Draft the landing page copy", vec!["writing"]),
        ("Pick the hero image", vec!["design"]),
        ("Fix the signup form on mobile", vec!["bug", "frontend"]),
    ] {
        let new = tasks::NewTask {
            project_id: website.id.clone(),
            title: title.into(),
            labels: labels.into_iter().map(String::from).collect(),
            ..Default::default()
        };
        tasks::create(store, &org.id, new).await?;
    }
    projects::create(
        store,
        &org.id,
        "Customer onboarding",
        "Checklist for new accounts",
    )
    .await?;
    let creds = DemoCredentials {
        organization: org.name,
        email: user.email,
        password,
        api_key: key.secret,
    };
    write_private(&file, &serde_json::to_string_pretty(&creds).unwrap_or_default())
        .map_err(|e| PlatformError::Internal(format!("writing {}: {e}", file.display())))?;
    Ok(creds)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

/// Publishes every example plugin (`EXAMPLES/*/bazaar.toml` with its component in
/// `PLUGINS/<name>.wasm`) into the catalog, as Bazaar's own developer organization, through the
/// same review as any partner's app; the demo admin, a platform reviewer, approves them.
/// Apps already in the catalog are left as they are. Returns the slugs published now.
pub async fn publish_examples(
    store: &Store,
    data_dir: &Path,
    examples: &Path,
    plugins: &Path,
) -> Result<Vec<String>, PlatformError> {
    use bazaar::catalog::{apps, review};
    let reviewer = bazaar::platform::orgs::make_reviewer(store, DEMO_EMAIL).await?;
    let developer = match orgs::find_by_slug(store, "bazaar").await? {
        Some(org) => org,
        None => {
            let password: String = rand::thread_rng()
                .sample_iter(&Alphanumeric)
                .take(24)
                .map(char::from)
                .collect();
            orgs::create_with_owner(store, "Bazaar", "integrations@bazaar.test", &password)
                .await?
                .0
        }
    };
    // Bazaar's own integrations come from a publisher the platform vouches for.
    bazaar::catalog::publishers::update(
        store,
        &developer.id,
        "The Bazaar team: native integrations built on the same public SDK as partners' apps.",
        None,
    )
    .await?;
    bazaar::catalog::publishers::verify(store, &developer.id, Some(&reviewer), true).await?;
    let cache = data_dir.join("component-cache");
    let sandbox = bazaar::sandbox::Sandbox::new(false, Some(cache))
        .await
        .map_err(|e| PlatformError::Internal(e.to_string()))?;
    let mut dirs: Vec<_> = std::fs::read_dir(examples)
        .map_err(|e| PlatformError::Internal(format!("reading {}: {e}", examples.display())))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|dir| dir.join("bazaar.toml").exists())
        .collect();
    dirs.sort();
    let mut published = Vec::new();
    for dir in dirs {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if apps::by_slug(store, &name).await.is_ok() {
            continue;
        }
        let manifest = std::fs::read_to_string(dir.join("bazaar.toml"))
            .map_err(|e| PlatformError::Internal(format!("reading {name}'s manifest: {e}")))?;
        // A Rust example's build is in PLUGINS; a TypeScript or Python one's, beside it (and
        // maybe copied into PLUGINS by scripts/build-plugins): the newer build wins.
        let built_here = dir.join("target/bazaar").join(format!("{name}.wasm"));
        let wasm = plugins.join(format!("{}.wasm", name.replace('-', "_")));
        let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let wasm = match (modified(&wasm), modified(&built_here)) {
            (None, Some(_)) => built_here,
            (Some(copied), Some(here)) if here > copied => built_here,
            _ => wasm,
        };
        let bytes = std::fs::read(&wasm).map_err(|e| {
            PlatformError::Invalid(format!(
                "{} is missing ({e}); build the plugins with scripts/build-plugins",
                wasm.display()
            ))
        })?;
        let app = apps::create(store, &developer.id, None, apps::AppKind::Plugin, &manifest).await?;
        let draft = apps::add_version(store, &app, "1.0.0", &manifest, "First release").await?;
        apps::upload_component(store, &app, &draft.id, &bytes).await?;
        let reviewed = review::submit(store, &sandbox, &app, &draft.id, false).await?;
        if reviewed.state != apps::states::IN_REVIEW {
            let why: Vec<_> = reviewed
                .findings
                .iter()
                .filter(|f| f.severity == "error")
                .map(|f| f.message.clone())
                .collect();
            return Err(PlatformError::Invalid(format!(
                "{name} did not pass the automated review: {}",
                why.join("; ")
            )));
        }
        review::approve(store, &draft.id, Some(&reviewer), "Bazaar's own integration").await?;
        // Its icon on the marketplace page, checked as any developer's upload.
        if let Ok(icon) = std::fs::read(dir.join("icon.png")) {
            bazaar::catalog::media::set_icon(store, &app.id, &icon).await?;
        }
        published.push(name);
    }
    Ok(published)
}
