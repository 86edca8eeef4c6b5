"""Production configuration and static guards: what a public link can and cannot reach."""
import pathlib
import re
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
CODE = [p for d in ("dashboard", "backprop_core") for p in (ROOT / d).rglob("*.py")]


def config():
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


def test_production_config_hides_errors_and_keeps_xsrf():
    c = config()
    assert c["client"]["showErrorDetails"] == "none"      # visitors never see tracebacks
    assert c["server"]["enableXsrfProtection"] is True
    assert c["server"]["enableCORS"] is True
    assert c["server"]["maxUploadSize"] <= 1              # the only upload is a CSV of at most 100 points
    assert c["server"]["headless"] is True
    assert c["browser"]["gatherUsageStats"] is False
    assert c["client"]["toolbarMode"] == "viewer"


def test_development_run_shows_full_errors():
    makefile = (ROOT / "Makefile").read_text()
    assert "--client.showErrorDetails=full" in makefile


def test_no_html_injection_eval_shell_or_uploads():
    for path in CODE:
        text = path.read_text()
        assert "unsafe_allow_html=True" not in text, path
        assert not re.search(r"(?<![/.\w])(eval|exec)\(", text), path
        assert not re.search(r"\b(subprocess|os\.system|os\.popen)\b", text), path
        if path.name != "custom_data.py":
            assert "file_uploader" not in text, path
        assert "open(" not in text, path                  # nothing from a URL reaches a file path


def test_the_one_upload_is_a_small_csv_that_is_parsed_never_executed_or_stored():
    text = (ROOT / "dashboard" / "custom_data.py").read_text()
    assert text.count("file_uploader(") == 1 and 'type=["csv"]' in text
    assert "getvalue()[:UPLOAD_BYTES]" in text and "parse_csv(" in text
    from dashboard.custom_data import UPLOAD_BYTES
    assert UPLOAD_BYTES <= 1_000_000


def test_core_never_imports_streamlit():
    for path in (ROOT / "backprop_core").rglob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+streamlit", path.read_text(), re.M), path


def test_dependencies_are_pinned():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r"):
                assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.+]*", line), line
    assert "torch==2.13.0" in (ROOT / "requirements.txt").read_text().split()


def _pins(path):
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            out[name] = version
    return out


def test_cloud_requirements_match_the_root_pins_with_cpu_torch():
    root, cloud = _pins(ROOT / "requirements.txt"), _pins(ROOT / "dashboard" / "requirements.txt")
    assert cloud.pop("torch") == root.pop("torch") + "+cpu"
    assert cloud == root


def test_dockerfile_is_cpu_only_non_root_and_health_checked():
    text = (ROOT / "Dockerfile").read_text()
    assert "whl/cpu torch==2.13.0" in text and "FROM python:3.11" in text
    assert re.search(r"^USER (?!root)\w+", text, re.M)
    assert "HEALTHCHECK" in text and "/_stcore/health" in text
