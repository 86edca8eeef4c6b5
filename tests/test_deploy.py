"""The deployment files: Kubernetes manifests valid against Kubernetes' own schemas (kubernetes-validate
carries them, so this runs offline) and consistent with each other and the image; the compose file's
replicas, health checks and shared secret; nginx's configuration for compose rendered from the same
template `make serve` and the failover test use."""
import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from serve import COMPOSE_REPLICAS, COMPOSE_WEB, compose_nginx, web_server

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = list(yaml.safe_load_all((ROOT / "deploy" / "k8s" / "backprop-lab.yaml").read_text()))
KINDS = {doc["kind"]: doc for doc in MANIFESTS if doc["metadata"]["name"] == "backprop-lab"}      # the replicas
WEB = {doc["kind"]: doc for doc in MANIFESTS if doc["metadata"]["name"] == "backprop-lab-web"}     # their files
COMPOSE = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
IMAGE_PORT = int(re.search(r"--server\.port=(\d+)", (ROOT / "Dockerfile").read_text()).group(1))


@pytest.mark.parametrize("doc", MANIFESTS, ids=[f'{d["kind"]}-{d["metadata"]["name"]}' for d in MANIFESTS])
def test_every_manifest_is_valid_for_kubernetes(doc):
    kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


def test_a_schema_violation_would_be_caught():
    broken = yaml.safe_load(yaml.safe_dump(KINDS["Service"]))
    broken["spec"]["prots"] = broken["spec"].pop("ports")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, kubernetes_validate.latest_version(), strict=True)


def test_the_service_ingress_probes_and_secret_fit_the_deployment():
    deployment, service, ingress = KINDS["Deployment"], KINDS["Service"], KINDS["Ingress"]
    pod = deployment["spec"]["template"]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"] == {
        k: v for k, v in pod["metadata"]["labels"].items() if k in service["spec"]["selector"]}
    container = pod["spec"]["containers"][0]
    port_names = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert port_names == {"http": IMAGE_PORT}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= set(port_names)
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/_stcore/health", "port": "http"}
    secret = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
    assert secret == {"STREAMLIT_SERVER_COOKIE_SECRET": {"name": "backprop-lab", "key": "cookie-secret"}}
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert notes["nginx.ingress.kubernetes.io/session-cookie-name"] == "bplab_route"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600     # websockets stay open


def test_compose_runs_the_replicas_nginx_knows_with_one_secret_behind_health_checks():
    services = COMPOSE["services"]
    replicas = sorted(name for name in services if name != "proxy")
    assert replicas == sorted(COMPOSE_REPLICAS)
    secrets = {services[r]["environment"]["STREAMLIT_SERVER_COOKIE_SECRET"] for r in replicas}
    assert len(secrets) == 1 and next(iter(secrets)).startswith("${BACKPROP_LAB_COOKIE_SECRET:?")
    for r in replicas:
        assert f"http://127.0.0.1:{IMAGE_PORT}/_stcore/health" in " ".join(services[r]["healthcheck"]["test"])
    proxy = services["proxy"]
    assert proxy["depends_on"] == {r: {"condition": "service_healthy"} for r in replicas}
    mount = proxy["volumes"][0].split(":")
    assert mount[1] == proxy["command"][-1]
    conf = (ROOT / "deploy" / mount[0]).read_text()
    assert conf == compose_nginx()
    listen = re.search(r"listen (\d+);", conf).group(1)
    assert proxy["ports"] == [f"${{PORT:-8080}}:{listen}"]
    for r in replicas:
        assert f"server {r}:{IMAGE_PORT} " in conf


def test_the_compose_proxy_serves_the_frontend_files_its_image_carries():
    """nginx's /static/ root in compose is where the proxy stage of the Dockerfile puts the files of the
    replicas' own image (same Streamlit, same hashed names)."""
    proxy = COMPOSE["services"]["proxy"]
    assert proxy["build"]["target"] == "proxy" and proxy["build"]["dockerfile"] == "Dockerfile"
    docker = (ROOT / "Dockerfile").read_text()
    stage = docker.split("AS proxy", 1)[1].split("FROM", 1)[0]
    copied = re.search(r"COPY --from=(\w+) (\S+) (\S+)", stage)
    assert copied.group(3) == COMPOSE_WEB
    assert f"python deploy/serve.py --web-files {copied.group(2)}" in docker.split(f"AS {copied.group(1)}", 1)[1]
    assert f"root {COMPOSE_WEB};" in compose_nginx()
    assert docker.rstrip().splitlines()[-1] == "FROM app"          # the default target is the app itself



def test_the_frontend_files_have_their_own_pods_and_an_ingress_without_affinity():
    """/static/ goes to backprop-lab-web (the Dockerfile's proxy stage, whose default configuration is
    deploy/serve.py's web_server), through an Ingress of its own: no routing cookie of its own may
    replace the replicas' one."""
    assert set(WEB) == {"Deployment", "Service", "Ingress"} and len(MANIFESTS) == 6
    deployment, service, ingress = WEB["Deployment"], WEB["Service"], WEB["Ingress"]
    pod = deployment["spec"]["template"]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"] == pod["metadata"]["labels"]
    container = pod["spec"]["containers"][0]
    assert container["image"].startswith("backprop-lab-proxy:")
    port = {p["name"]: p["containerPort"] for p in container["ports"]}["http"]
    assert f"listen {port};" in web_server(COMPOSE_WEB)
    path = ingress["spec"]["rules"][0]["http"]["paths"][0]
    assert path["path"] == "/static" and path["pathType"] == "Prefix"
    assert path["backend"]["service"] == {"name": "backprop-lab-web", "port": {"name": "http"}}
    assert not any("affinity" in k or "session-cookie" in k for k in ingress["metadata"].get("annotations", {}))
    docker = (ROOT / "Dockerfile").read_text()
    assert "--web-server /srv/backprop-lab-web > /tmp/web.conf" in docker
    assert "COPY --from=web /tmp/web.conf /etc/nginx/conf.d/default.conf" in docker
