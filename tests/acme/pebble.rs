//! Let's Encrypt's test CA, pebble (Debian package `pebble`), on 127.0.0.1 for one test:
//! its own HTTPS certificate made here, its DNS answered by pebble-challtestsrv (every name
//! is 127.0.0.1), and both processes killed by PID when the value is dropped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};

pub struct Pebble {
    pub dir: tempfile::TempDir,
    /// The ACME directory URL.
    pub directory: String,
    /// PEM of the CA that signed pebble's own HTTPS certificate (not pebble's ACME root).
    pub https_ca: PathBuf,
    management: String,
    children: Vec<Child>,
}

/// Where pebble's validation connects for each challenge type.
pub struct ChallengePorts {
    pub http: u16,
    pub tls: u16,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind an ephemeral port")
        .local_addr()
        .expect("local addr")
        .port()
}

fn find(program: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{program}` is not installed: run scripts/install-pebble.sh \
                 (it installs Debian's `pebble` package, Let's Encrypt's test CA)"
            )
        })
}

impl Pebble {
    /// Pebble as Let's Encrypt's developers run it: 5% of nonces refused.
    pub async fn start(ports: ChallengePorts) -> Pebble {
        Pebble::start_with(ports, 5).await
    }

    /// Pebble refusing `nonce_reject_percent` of the nonces it receives.
    pub async fn start_with(ports: ChallengePorts, nonce_reject_percent: u8) -> Pebble {
        let pebble_bin = find("pebble");
        let challtestsrv_bin = find("pebble-challtestsrv");
        let dir = tempfile::tempdir().expect("tempdir");
        let https_ca = write_https_certificates(dir.path());
        let (listen, management, dns, dns_management) =
            (free_port(), free_port(), free_port(), free_port());
        let config = serde_json::json!({
            "pebble": {
                "listenAddress": format!("127.0.0.1:{listen}"),
                "managementListenAddress": format!("127.0.0.1:{management}"),
                "certificate": dir.path().join("pebble.crt"),
                "privateKey": dir.path().join("pebble.key"),
                "httpPort": ports.http,
                "tlsPort": ports.tls,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false
            }
        });
        let config_path = dir.path().join("pebble-config.json");
        std::fs::write(&config_path, config.to_string()).expect("write pebble config");

        let log = |name: &str| std::fs::File::create(dir.path().join(name)).expect("log file");
        let dns_server = Command::new(challtestsrv_bin)
            .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""])
            .args(["-dns01", &format!("127.0.0.1:{dns}")])
            .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
            .args(["-management", &format!("127.0.0.1:{dns_management}")])
            .stdin(Stdio::null())
            .stdout(log("challtestsrv.log"))
            .stderr(log("challtestsrv.err"))
            .spawn()
            .expect("start pebble-challtestsrv");
        let mut children = vec![dns_server];
        let ca = Command::new(pebble_bin)
            .arg("-config")
            .arg(&config_path)
            .args(["-dnsserver", &format!("127.0.0.1:{dns}")])
            // Validate at once instead of after a random few seconds.
            .env("PEBBLE_VA_NOSLEEP", "1")
            // Every order must pass its challenge: no reuse of an earlier validation, so
            // a renewal exercises the challenge on the live listener too.
            .env("PEBBLE_AUTHZREUSE", "0")
            // A share of valid nonces refused as badNonce, to test the client's retries.
            .env("PEBBLE_WFE_NONCEREJECT", nonce_reject_percent.to_string())
            .stdin(Stdio::null())
            .stdout(log("pebble.log"))
            .stderr(log("pebble.err"))
            .spawn()
            .expect("start pebble");
        children.push(ca);
        let pebble = Pebble {
            directory: format!("https://127.0.0.1:{listen}/dir"),
            management: format!("https://127.0.0.1:{management}"),
            https_ca,
            dir,
            children,
        };
        pebble.wait_ready().await;
        pebble
    }

    fn client(&self) -> reqwest::Client {
        let pem = std::fs::read(&self.https_ca).expect("read CA");
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("CA pem"))
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client")
    }

    async fn wait_ready(&self) {
        let client = self.client();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = client.get(&self.directory).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "pebble did not answer on {} within 30 s; its log:\n{}",
                self.directory,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The root that signs pebble's ACME certificates (new at every pebble start).
    pub async fn root_pem(&self) -> String {
        let r = self
            .client()
            .get(format!("{}/roots/0", self.management))
            .send()
            .await
            .expect("GET /roots/0");
        assert!(r.status().is_success(), "GET /roots/0: {}", r.status());
        r.text().await.expect("root PEM")
    }

    /// Pebble's output, for assertion messages.
    pub fn log(&self) -> String {
        ["pebble.log", "pebble.err"]
            .iter()
            .map(|f| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A CA and a leaf (CA:FALSE, SAN localhost and 127.0.0.1) for pebble's own HTTPS
/// listener; returns the CA's PEM path.
fn write_https_certificates(dir: &Path) -> PathBuf {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Keybridge test: pebble HTTPS CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA");

    let leaf_key = KeyPair::generate().expect("leaf key");
    let mut leaf_params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("leaf params");
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = leaf_params.signed_by(&leaf_key, &ca).expect("leaf");

    let ca_path = dir.join("https-ca.crt");
    std::fs::write(&ca_path, ca.pem()).expect("write CA");
    std::fs::write(dir.join("pebble.crt"), leaf.pem()).expect("write leaf");
    std::fs::write(dir.join("pebble.key"), leaf_key.serialize_pem()).expect("write key");
    ca_path
}
