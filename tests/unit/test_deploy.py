"""Static checks of deploy/: the Dockerfile, the compose stack and the Kubernetes manifests
agree with the code they run (CLI, settings, health endpoints, policy loader, packaging).

Nothing here needs Docker or a cluster: this is what catches a renamed setting, a wrong
probe path or an undeclared dependency before an image is built."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import json
import re
import shlex
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from services.cli.main import build_parser
from services.cli.services import SERVICES, is_available
from services.core.policy import load_policy
from services.core.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
COMPOSE_DIR = DEPLOY / "compose"
COMPOSE = COMPOSE_DIR / "docker-compose.yml"
K8S = DEPLOY / "k8s"
PREFIX = Settings.model_config["env_prefix"]
KEFU_VAR = re.compile(rf"\b{PREFIX}[A-Z0-9_]+\b")
PLACEHOLDER = "CHANGE_ME"


# --- loading ---------------------------------------------------------------------------


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def kefu_compose_services() -> dict[str, dict]:
    """Compose services that run the kefu image (built from deploy/Dockerfile)."""
    services = compose()["services"]
    return {
        name: svc
        for name, svc in services.items()
        if (svc.get("build") or {}).get("dockerfile") == "deploy/Dockerfile"
    }


def k8s_manifest_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def k8s_docs() -> list[dict]:
    docs = []
    for path in k8s_manifest_files():
        docs += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return docs


def k8s_kind(kind: str) -> list[dict]:
    return [d for d in k8s_docs() if d["kind"] == kind]


def k8s_named(kind: str, name: str) -> dict:
    (doc,) = [d for d in k8s_kind(kind) if d["metadata"]["name"] == name]
    return doc


def config_env() -> dict[str, str]:
    return k8s_named("ConfigMap", "kefu-config")["data"]


def pod_specs() -> list[tuple[str, dict]]:
    """(workload name, pod spec) of every Deployment and Job."""
    return [
        (d["metadata"]["name"], d["spec"]["template"]["spec"])
        for d in k8s_docs()
        if d["kind"] in ("Deployment", "Job")
    ]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    lines, current = [], ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):  # a comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    result = []
    for line in lines:
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (kw, _) in enumerate(instructions) if kw == "FROM")
    return instructions[last_from:]


def dockerfile_env() -> dict[str, str]:
    env = {}
    for keyword, rest in final_stage():
        if keyword == "ENV":
            for item in shlex.split(rest):
                name, _, value = item.partition("=")
                env[name] = value
    return env


def setting_name(variable: str) -> str:
    return variable[len(PREFIX) :].lower()


def interpolate(value: str) -> str:
    """Compose `${VAR:-default}` -> default; any other `${...}` -> a placeholder."""

    def replace(match: re.Match) -> str:
        op, arg = match.group(2), match.group(3)
        return arg if op in (":-", "-") else "placeholder"

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}", replace, value)


def settings_from(env: dict[str, str]) -> Settings:
    """Build Settings from KEFU_* variables exactly as the services would read them."""
    return Settings(**{setting_name(k): interpolate(str(v)) for k, v in env.items()})


def parse_kefu(argv: list[str]):
    """Parse argv with the real CLI parser; a usage error fails the test, naming argv."""
    try:
        return build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"`kefu {' '.join(argv)}` is not a valid kefu command (exit {exc.code})")


def policy_secret_envs() -> set[str]:
    """Variables named by `notify.webhook.secret_env` in the example policies: read by the
    notifier through the policy, not through Settings."""
    names = set()
    for text in example_policies().values():
        policy = load_policy_text(text)
        for shop in (policy.default, *policy.shops.values()):
            if shop.notify.webhook.secret_env:
                names.add(shop.notify.webhook.secret_env)
    return names


def example_policies() -> dict[str, str]:
    return {
        "deploy/compose/policy.yaml": (COMPOSE_DIR / "policy.yaml").read_text(encoding="utf-8"),
        "deploy/k8s configmap kefu-policy": k8s_named("ConfigMap", "kefu-policy")["data"][
            "policy.yaml"
        ],
    }


def load_policy_text(text: str, tmp_dir: Path | None = None):
    import tempfile

    with tempfile.TemporaryDirectory(dir=tmp_dir) as directory:
        path = Path(directory) / "policy.yaml"
        path.write_text(text, encoding="utf-8")
        return load_policy(path)


def commented_compose_env() -> dict[str, str]:
    """The commented TLS/SASL variant in docker-compose.yml (`# KEFU_X: value` lines)."""
    env = {}
    for line in COMPOSE.read_text(encoding="utf-8").splitlines():
        match = re.match(rf"\s*#\s*({PREFIX}[A-Z0-9_]+):\s*(\S.*?)\s*(?:#.*)?$", line)
        if match:
            env[match.group(1)] = match.group(2).strip("\"'")
    return env


# --- the compose stack -----------------------------------------------------------------


def test_compose_parses_with_brokers_topics_and_every_service():
    services = compose()["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:3.")
    assert services["redis"]["image"].startswith("redis:7")
    runs = {
        parse_kefu(svc["command"]).service
        for svc in kefu_compose_services().values()
        if svc["command"][0] == "run"
    }
    assert runs == set(SERVICES)


def test_compose_commands_are_real_kefu_subcommands():
    for name, svc in kefu_compose_services().items():
        args = parse_kefu(svc["command"])
        if args.command == "run":
            assert is_available(args.service), f"{name}: services.{args.service}.app missing"


def test_compose_brokers_are_persistent_and_healthchecked():
    services = compose()["services"]
    kafka, redis = services["kafka"], services["redis"]
    env = kafka["environment"]
    assert "broker" in env["KAFKA_PROCESS_ROLES"] and "controller" in env["KAFKA_PROCESS_ROLES"]
    assert str(env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]).lower() == "false"
    assert any(v.endswith(":" + env["KAFKA_LOG_DIRS"]) for v in kafka["volumes"])
    assert "/opt/kafka/bin/kafka-broker-api-versions.sh" in " ".join(kafka["healthcheck"]["test"])
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(v.endswith(":/data") for v in redis["volumes"])
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])


def test_compose_ordering_restarts_and_topic_provisioning():
    services = compose()["services"]
    topics = services["topics"]
    args = parse_kefu(topics["command"])
    assert (args.command, args.action) == ("topics", "create")
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert topics["restart"] == "no"
    for name, svc in kefu_compose_services().items():
        if name == "topics":
            continue
        assert svc["depends_on"]["topics"]["condition"] == "service_completed_successfully"
        assert svc["depends_on"]["redis"]["condition"] == "service_healthy"
        assert svc["restart"] == "unless-stopped", name
    env = topics["environment"]
    partitions = args.partitions or int(env["KEFU_TOPIC_PARTITIONS"])
    assert partitions == int(env["KEFU_TOPIC_PARTITIONS"])


def test_compose_services_share_one_env_anchor_and_valid_settings():
    anchor, secrets = compose()["x-kefu-env"], policy_secret_envs()
    for name, svc in kefu_compose_services().items():
        extra = secrets | {key for key, readers in SECRET_READERS.items() if name in readers}
        env = {k: v for k, v in svc["environment"].items() if k not in extra}
        assert env == anchor, f"{name} uses x-kefu-env (plus its own secrets)"
    settings = settings_from(anchor)
    assert settings.http_host == "0.0.0.0"
    assert settings.kafka_bootstrap.split(":")[0] in compose()["services"]
    assert urlsplit(settings.redis_url).hostname in compose()["services"]


def test_only_the_notifier_gets_the_webhook_secret_in_compose():
    names = policy_secret_envs()
    assert names, "the example policies name the webhook secret's variable"
    assert not names & set(compose()["x-kefu-env"])
    assert set().union(*map(compose_holders, names)) == {"notifier"}


def test_compose_healthchecks_use_readyz_on_the_http_port():
    for name, svc in kefu_compose_services().items():
        if name == "topics":
            assert svc["healthcheck"].get("disable") is True
            continue
        port = int(svc["environment"]["KEFU_HTTP_PORT"])
        test = " ".join(svc["healthcheck"]["test"])
        assert f"127.0.0.1:{port}/readyz" in test, name
        for mapping in svc.get("ports", []):
            assert str(mapping).rsplit(":", 1)[-1] == str(port), (name, mapping)


def test_compose_policy_mount_matches_policy_file_setting():
    for name, svc in kefu_compose_services().items():
        target = svc["environment"]["KEFU_POLICY_FILE"]
        mounts = [v.split(":") for v in svc["volumes"]]
        (source,) = [m[0] for m in mounts if m[1] == target]
        assert (COMPOSE_DIR / source).is_file(), name


def test_compose_tls_sasl_variant_is_valid_settings():
    env = commented_compose_env()
    assert env["KEFU_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    for name in ("KEFU_KAFKA_SASL_MECHANISM", "KEFU_KAFKA_SASL_USERNAME",
                 "KEFU_KAFKA_SASL_PASSWORD", "KEFU_KAFKA_SSL_CAFILE"):  # fmt: skip
        assert name in env
    settings = settings_from(env)
    assert settings.kafka_security_protocol == "SASL_SSL"
    assert urlsplit(settings.redis_url).scheme == "rediss"


# --- settings used anywhere in deploy/ -------------------------------------------------


def deploy_env_names() -> dict[str, set[str]]:
    """Every KEFU_* name mentioned in deploy/ files, by file (comments included)."""
    found = {}
    for path in [DOCKERFILE, COMPOSE, *K8S.glob("*.yaml")]:
        names = set(KEFU_VAR.findall(path.read_text(encoding="utf-8")))
        found[str(path.relative_to(REPO))] = names
    return found


def test_every_kefu_variable_is_a_settings_field():
    fields = set(Settings.model_fields)
    allowed_extra = policy_secret_envs()
    problems = [
        f"{where}: {name}"
        for where, names in deploy_env_names().items()
        for name in sorted(names)
        if setting_name(name) not in fields and name not in allowed_extra
    ]
    assert not problems, "not a field of services.core.settings.Settings: " + ", ".join(problems)


ENV_SECRETS = ("kefu-secrets", "kefu-analytics", "kefu-console", "kefu-ingest", "kefu-webhook")
"""The Secrets that containers get as environment variables."""


def test_k8s_config_and_secret_are_valid_settings_without_overlap():
    config = config_env()
    secret = {key: value for s in k8s_kind("Secret") if s["metadata"]["name"] in ENV_SECRETS
              for key, value in s["stringData"].items()}
    assert not set(config) & set(secret), "a key in both would be silently overridden"
    fields = set(Settings.model_fields)
    settings_env = {k: v for k, v in {**config, **secret}.items() if setting_name(k) in fields}
    settings = settings_from(settings_env)
    assert settings.http_host == "0.0.0.0"
    assert set(secret) - set(settings_env) <= policy_secret_envs()


def test_dockerfile_env_is_valid_settings():
    env = {k: v for k, v in dockerfile_env().items() if k.startswith(PREFIX)}
    settings = settings_from(env)
    assert settings.http_host == "0.0.0.0"
    assert settings.http_port is not None


# --- the image -------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_on_python_311_slim():
    instructions = dockerfile_instructions()
    args = dict(rest.split("=", 1) for kw, rest in instructions if kw == "ARG" and "=" in rest)
    bases = [rest.split()[0] for kw, rest in instructions if kw == "FROM"]
    resolved = [re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], b) for b in bases]
    assert len(resolved) >= 2
    assert all(base.startswith("python:3.11-slim") for base in resolved), resolved


def test_dockerfile_builds_a_wheel_and_installs_it_without_extras():
    runs = " ".join(rest for kw, rest in dockerfile_instructions() if kw == "RUN")
    assert "pip wheel" in runs
    installs = re.findall(r"pip install ([^&;]+)", runs)
    assert installs, "no pip install"
    for install in installs:
        assert "[" not in install, f"extras installed: {install}"
        assert "embedded" not in install and "dev" not in install.split(), install
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert {"embedded", "dev"} <= set(extras)


def test_dockerfile_entrypoint_cmd_user_port_and_healthcheck():
    final = final_stage()
    values = {kw: rest for kw, rest in final}
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert json.loads(values["ENTRYPOINT"]) == ["kefu"] and "kefu" in scripts
    cmd = json.loads(values["CMD"])
    assert parse_kefu(cmd).command == "run"
    user = values["USER"].split(":")[0]
    assert user.isdigit() and int(user) != 0, "numeric non-root user (runAsNonRoot)"
    env = dockerfile_env()
    assert env["KEFU_HTTP_HOST"] == "0.0.0.0"
    assert values["EXPOSE"].split("/")[0] == env["KEFU_HTTP_PORT"]
    healthcheck = values["HEALTHCHECK"]
    assert "urllib" in healthcheck and "/healthz" in healthcheck
    assert "curl" not in healthcheck and "wget" not in healthcheck


def test_docker_context_allowlist_covers_what_the_build_copies():
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*", "an allow-list keeps .venv, .git and var/ out of the context"
    allowed = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    copied = set()
    for keyword, rest in dockerfile_instructions():
        if keyword == "COPY" and "--from=" not in rest:
            copied |= {s.rstrip("/") for s in rest.split()[:-1] if not s.startswith("--")}
    assert copied <= allowed, copied - allowed
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    needed = {"pyproject.toml", project["project"]["readme"]}
    needed |= {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert needed <= copied, needed - copied


def _requirement_closure() -> set[str]:
    """Distributions that `pip install kefu` (no extras) brings in, from installed metadata."""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    todo = [Requirement(r) for r in declared]
    seen: set[str] = set()
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        key = f"{name}[{','.join(sorted(req.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for sub in map(Requirement, requires):
            if sub.marker is None or any(
                sub.marker.evaluate({"extra": extra}) for extra in ("", *req.extras)
            ):
                todo.append(Requirement(str(sub).split(";")[0]))
    return {key.split("[")[0] for key in seen}


def _runtime_imports(path: Path) -> set[str]:
    """Top-level modules imported by a file, except imports guarded by `except ImportError`
    (optional: the embedded extra) and under `if TYPE_CHECKING`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def guarded(node: ast.AST) -> bool:
        while node in parents:
            parent = parents[node]
            if isinstance(parent, ast.Try) and node in parent.body:
                for handler in parent.handlers:
                    names = ast.unparse(handler.type) if handler.type else ""
                    if "ImportError" in names or "ModuleNotFoundError" in names:
                        return True
            if isinstance(parent, ast.If) and "TYPE_CHECKING" in ast.unparse(parent.test):
                return True
            node = parent
        return False

    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and not guarded(node):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and not guarded(node):
            modules.add(node.module.split(".")[0])
    return modules


def test_every_runtime_import_is_a_declared_dependency():
    """The image installs only `dependencies` (no extras): an import of anything else
    crashes the service in the container although every test passes in the dev venv."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = [p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    closure = _requirement_closure()
    providers = metadata.packages_distributions()
    problems = []
    for package in packages:
        for path in sorted((REPO / package).rglob("*.py")):
            for module in sorted(_runtime_imports(path)):
                if module in sys.stdlib_module_names or module in packages:
                    continue
                dists = {canonicalize_name(d) for d in providers.get(module, [])}
                if not dists & closure:
                    problems.append(f"{path.relative_to(REPO)}: {module}")
    assert not problems, "imported but not in [project].dependencies: " + ", ".join(problems)


# --- Kubernetes ------------------------------------------------------------------------


def test_kustomization_lists_every_manifest_file():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    listed = kustomization["resources"]
    assert len(listed) == len(set(listed))
    assert set(listed) == {p.name for p in k8s_manifest_files()}
    assert kustomization["namespace"] == k8s_kind("Namespace")[0]["metadata"]["name"]
    assert {i["name"] for i in kustomization["images"]} == {"kefu"}


def test_every_container_runs_a_real_kefu_command():
    runs = set()
    for workload, spec in pod_specs():
        for container in spec.get("initContainers", []) + spec["containers"]:
            assert container["image"] == "kefu", f"{workload}: set the image in kustomization"
            args = parse_kefu(container["args"])
            if args.command == "run":
                assert is_available(args.service), workload
                runs.add(args.service)
    assert runs == set(SERVICES)
    job = k8s_named("Job", "kefu-topics")["spec"]["template"]["spec"]["containers"][0]
    assert parse_kefu(job["args"]).action == "create"


def test_deployments_have_probes_on_the_http_port():
    port = int(config_env()["KEFU_HTTP_PORT"])
    for deployment in k8s_kind("Deployment"):
        name = deployment["metadata"]["name"]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        probes = {
            kind: container[kind]["httpGet"]
            for kind in ("startupProbe", "livenessProbe", "readinessProbe")
            if kind in container
        }
        assert probes["livenessProbe"]["path"] == "/healthz", name
        assert probes["readinessProbe"]["path"] == "/readyz", name
        for probe in probes.values():
            assert ports.get(probe["port"], probe["port"]) == port, name
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(port)


def test_every_container_has_resources_and_a_locked_down_security_context():
    for workload, spec in pod_specs():
        pod_security = spec["securityContext"]
        assert pod_security["runAsNonRoot"] is True and pod_security["runAsUser"] != 0
        assert pod_security["seccompProfile"]["type"] == "RuntimeDefault"
        assert spec["automountServiceAccountToken"] is False
        for container in spec.get("initContainers", []) + spec["containers"]:
            where = f"{workload}/{container['name']}"
            for level in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][level]), where
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounts, f"{where}: writable /tmp on a read-only root"


def test_deployments_shut_down_gracefully_and_scale_within_partitions():
    partitions = int(config_env()["KEFU_TOPIC_PARTITIONS"])
    for deployment in k8s_kind("Deployment"):
        spec = deployment["spec"]
        assert spec["template"]["spec"]["terminationGracePeriodSeconds"] == 30
        assert 1 <= spec["replicas"] <= partitions, deployment["metadata"]["name"]


def _selects(selector: dict, labels: dict) -> bool:
    return selector.items() <= labels.items()


def test_every_deployment_has_a_pdb_and_a_metrics_service():
    pdbs, services = k8s_kind("PodDisruptionBudget"), k8s_kind("Service")
    port = int(config_env()["KEFU_HTTP_PORT"])
    for deployment in k8s_kind("Deployment"):
        name = deployment["metadata"]["name"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert _selects(deployment["spec"]["selector"]["matchLabels"], labels), name
        matching = [p for p in pdbs if _selects(p["spec"]["selector"]["matchLabels"], labels)]
        assert len(matching) == 1, f"{name}: one PodDisruptionBudget"
        budget = matching[0]["spec"]
        assert "minAvailable" in budget or "maxUnavailable" in budget
        scraped = [s for s in services if _selects(s["spec"]["selector"], labels)
                   and "prometheus.io/scrape" in s["metadata"].get("annotations", {})]
        assert len(scraped) == 1, f"{name}: one metrics Service"
        service = scraped[0]
        annotations = service["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/path"] == "/metrics"
        assert int(annotations["prometheus.io/port"]) == port
        (service_port,) = service["spec"]["ports"]
        assert service_port["port"] == port and service_port["targetPort"] == "http"


def test_policy_file_setting_points_at_the_mounted_configmap():
    path = Path(config_env()["KEFU_POLICY_FILE"])
    policy_cm = k8s_named("ConfigMap", "kefu-policy")
    assert path.name in policy_cm["data"]
    for workload, spec in pod_specs():
        volumes = {
            v["name"]: v["configMap"]["name"] for v in spec.get("volumes", []) if "configMap" in v
        }
        for container in spec["containers"]:
            if parse_kefu(container["args"]).command != "run":
                continue
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert volumes.get(mounts.get(str(path.parent))) == "kefu-policy", workload


def test_secret_template_holds_placeholders_only():
    for secret in k8s_kind("Secret"):
        name = secret["metadata"]["name"]
        assert "data" not in secret, f"{name}: use stringData placeholders, not base64 data"
        for key, value in secret["stringData"].items():
            assert PLACEHOLDER in value, f"{name}.{key} is not a {PLACEHOLDER} placeholder"
            assert "-----BEGIN" not in value, f"{name}.{key} looks like a real key"
            url = urlsplit(value)
            if url.scheme and url.password is not None:
                assert url.password == PLACEHOLDER, f"{name}.{key}: URL password"


def container_secret_keys(container: dict) -> set[str]:
    """The Secret keys a container gets as environment variables."""
    secrets = {s["metadata"]["name"]: set(s["stringData"]) for s in k8s_kind("Secret")}
    keys = set()
    for source in container.get("envFrom", []):
        if "secretRef" in source:
            keys |= secrets.get(source["secretRef"]["name"], set())
    for variable in container.get("env", []):
        if "secretKeyRef" in variable.get("valueFrom", {}):
            keys.add(variable["name"])
    return keys


def test_only_the_notifier_container_holds_the_webhook_secret():
    names = policy_secret_envs()
    assert names, "the example policies name the webhook secret's variable"
    assert set().union(*map(k8s_holders, names)) == {"kefu-notifier/notifier"}


def k8s_holders(key: str) -> set[str]:
    """Every workload/container that gets the Secret key `key` in its environment."""
    return {f"{workload}/{container['name']}"
            for workload, spec in pod_specs()
            for container in spec.get("initContainers", []) + spec["containers"]
            if key in container_secret_keys(container)}


def compose_holders(key: str) -> set[str]:
    return {name for name, svc in kefu_compose_services().items() if key in svc["environment"]}


SECRET_READERS = {
    "KEFU_INGEST_SECRET": {"gateway"},
    "KEFU_ANALYTICS_URL": {"analytics"},  # the ClickHouse password
    "KEFU_ANALYTICS_TOKEN": {"analytics", "console"},  # the API's admin token
    "KEFU_CONSOLE_SECRET": {"console"},  # signs session cookies and CSRF tokens
}
"""Secrets that only some services read: nothing else gets them, in k8s or in compose
(the webhook secret, named by the policy, has its own tests above)."""


@pytest.mark.parametrize("key", sorted(SECRET_READERS))
def test_a_secret_reaches_only_the_containers_that_read_it(key):
    readers = SECRET_READERS[key]
    assert k8s_holders(key) == {f"kefu-{name}/{name}" for name in readers}
    assert compose_holders(key) == readers


def test_the_secret_every_service_gets_holds_only_broker_and_redis_credentials():
    shared = set(k8s_named("Secret", "kefu-secrets")["stringData"])
    assert shared == {"KEFU_REDIS_URL", "KEFU_KAFKA_SASL_USERNAME", "KEFU_KAFKA_SASL_PASSWORD"}
    assert not set(SECRET_READERS) & set(compose()["x-kefu-env"])


def test_example_policies_load_with_kefus_loader(tmp_path):
    for where, text in example_policies().items():
        try:
            load_policy_text(text, tmp_path)
        except Exception as exc:  # PolicyError names the bad key
            pytest.fail(f"{where}: {exc}")


# --- network policies ------------------------------------------------------------------

MONITORING_AND_INGRESS = {"monitoring", "ingress-nginx"}
METADATA_AND_PRIVATE = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
                        "100.64.0.0/10"}


def _selector_matches(selector: dict, labels: dict) -> bool:
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        value, operator = labels.get(expression["key"]), expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and value is None:
            return False
    return True


def workload_pods() -> list[tuple[str, dict]]:
    """(workload name, pod labels) of every workload in the namespace."""
    return [(d["metadata"]["name"], d["spec"]["template"]["metadata"]["labels"])
            for d in k8s_docs() if d["kind"] in ("Deployment", "StatefulSet", "Job")]


def _peer(peer: dict) -> str:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        return f"ip:{block['cidr']} except {','.join(sorted(block.get('except', [])))}"
    if "namespaceSelector" in peer:
        return "ns:" + peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
    return "pod:" + peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]


def allowed(labels: dict, direction: str) -> set[str]:
    """What the policies allow a pod with `labels`: ``<peer>:<port>`` strings, `direction`
    being "egress" (peers under `to`) or "ingress" (under `from`)."""
    side = "to" if direction == "egress" else "from"
    found = set()
    for policy in k8s_kind("NetworkPolicy"):
        if not _selector_matches(policy["spec"]["podSelector"], labels):
            continue
        for rule in policy["spec"].get(direction, []):
            assert rule.get(side) and rule.get("ports"), f"{policy['metadata']['name']}: " \
                f"every {direction} rule names its peers and ports"
            found |= {f"{_peer(peer)}:{port['port']}" for peer in rule[side]
                      for port in rule["ports"]}
    return found


def kafka_and_redis() -> tuple[str, str]:
    """`ns:<namespace>:<port>` of the configured Kafka bootstrap and Redis URL."""
    host, port = config_env()["KEFU_KAFKA_BOOTSTRAP"].split(",")[0].rsplit(":", 1)
    redis = urlsplit(k8s_named("Secret", "kefu-secrets")["stringData"]["KEFU_REDIS_URL"])
    return f"ns:{host.split('.')[2]}:{port}", f"ns:{redis.hostname.split('.')[1]}:{redis.port}"


def test_every_pod_is_denied_everything_unless_a_policy_allows_it():
    denials = [p for p in k8s_kind("NetworkPolicy") if p["spec"]["podSelector"] == {}
               and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
               and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    assert len(denials) == 1, "one default-deny policy for the whole namespace"


def test_services_talk_only_to_kafka_redis_dns_and_their_own_http_port():
    kafka, redis = kafka_and_redis()
    port = config_env()["KEFU_HTTP_PORT"]
    dns = {"ns:kube-system:53"}
    for workload, labels in workload_pods():
        component = labels.get("app.kubernetes.io/component")
        if component in SERVICES:
            expected = {kafka, redis} | dns
            if component == "notifier":
                expected.add(f"ip:0.0.0.0/0 except {','.join(sorted(METADATA_AND_PRIVATE))}:443")
            if component == "analytics":
                expected.add("pod:clickhouse:8123")
            if component == "console":  # its charts come from the analytics API
                expected.add(f"pod:kefu-analytics:{port}")
            assert allowed(labels, "egress") == expected, workload
            callers = {f"ns:{ns}:{port}" for ns in MONITORING_AND_INGRESS}
            if component == "analytics":
                callers.add(f"pod:kefu-console:{port}")
            assert allowed(labels, "ingress") == callers, workload
        elif component == "topics":
            assert allowed(labels, "egress") == {kafka} | dns, workload
            assert allowed(labels, "ingress") == set(), workload
        else:
            assert labels["app.kubernetes.io/name"] == "clickhouse", workload
            assert allowed(labels, "egress") == dns
            assert allowed(labels, "ingress") == {"pod:kefu-analytics:8123"}


def test_only_the_notifier_reaches_outside_the_cluster_and_never_the_metadata_service():
    outside = {workload for workload, labels in workload_pods()
               if any(rule.startswith("ip:") for rule in allowed(labels, "egress"))}
    assert outside == {"kefu-notifier"}
    for policy in k8s_kind("NetworkPolicy"):
        for rule in policy["spec"].get("egress", []):
            for peer in rule["to"]:
                if "ipBlock" in peer:
                    assert METADATA_AND_PRIVATE <= set(peer["ipBlock"].get("except", []))
