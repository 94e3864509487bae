"""Architecture rules, checked on the source: the disclosure choke point cannot be bypassed.

Rule: record content leaves only through ``access.disclosure``. No view,
form, serializer, template tag, exporter or admin module may import the
subject models or the subject selectors, or call ``.objects`` on them.
Subject selectors may be imported only by the choke point (and the write
service, which goes through the choke point's permission check).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["mais", "access", "records", "audit", "governance", "api", "notifications", "partnership", "reports"]
SUBJECT_MODELS = {"Subject", "SubjectName", "ItemChange", "SubjectGroupObjectPermission", "SubjectUserObjectPermission"}
SUBJECT_SELECTORS = {
    "search_subjects",
    "subject_values",
    "subject_record",
    "subject_record_read",
    "item_history",
    "subject_ids_by_nhs_number",
    "governance_values",
    "caseload_subject_ids",
    "review_dates",
    "recent_item_changes",
}
SURFACE_NAMES = ("views.py", "forms.py", "serializers.py", "admin.py", "urls.py", "web.py", "context_processors.py", "middleware.py")
# The choke point is access/disclosure.py with its subject-level rules in access/governance.py.
SELECTOR_IMPORTERS = {"access/disclosure.py", "access/governance.py"}
# The data layer: selectors and services that the choke point and the write paths call.
# governance/ reads record dates for the retention schedule and deletes a disposed record.
MODEL_IMPORTERS = {
    "access/disclosure.py",
    "records/selectors.py",
    "records/services.py",
    "records/models.py",
    "records/terms.py",
    "governance/selectors.py",
    "governance/services.py",
    "notifications/services.py",
}


def python_files() -> list[Path]:
    return [p for app in APPS for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


def is_surface(path: Path) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return (
        path.name in SURFACE_NAMES
        or "templatetags" in path.parts
        or "export" in path.name
        or "api" in path.parts
        or rel.endswith("views.py")
    )


def imported_names(tree: ast.AST) -> list[tuple[str, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            out += [(alias.name, "*") for alias in node.names]
    return out


def test_there_are_surface_modules_to_check():
    assert sum(1 for p in python_files() if is_surface(p)) >= 5


def test_surfaces_never_touch_subject_models_or_selectors():
    offences = []
    for path in python_files():
        if not is_surface(path):
            continue
        tree = ast.parse(path.read_text())
        for module, name in imported_names(tree):
            if module == "records.models" and (name in SUBJECT_MODELS or name == "*"):
                offences.append(f"{path.relative_to(ROOT)} imports {name} from records.models")
            if module == "records.selectors" and name in SUBJECT_SELECTORS:
                offences.append(f"{path.relative_to(ROOT)} imports {name} from records.selectors")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in {"objects", "_default_manager", "raw"}:
                base = node.value
                if isinstance(base, ast.Name) and base.id in SUBJECT_MODELS:
                    offences.append(f"{path.relative_to(ROOT)}:{node.lineno} queries {base.id}")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get_model"
                and any(isinstance(a, ast.Constant) and str(a.value).lower() in {m.lower() for m in SUBJECT_MODELS} for a in node.args)
            ):
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno} loads a subject model with get_model")
    assert offences == []


def test_only_the_choke_point_imports_subject_selectors():
    offences = []
    for path in python_files():
        rel = path.relative_to(ROOT).as_posix()
        for module, name in imported_names(ast.parse(path.read_text())):
            if module == "records.selectors" and name in SUBJECT_SELECTORS and rel not in SELECTOR_IMPORTERS:
                offences.append(f"{rel} imports {name}")
    assert offences == []


def test_only_the_data_layer_imports_subject_models():
    allowed_prefixes = ("records/management/", "mais/management/")
    offences = []
    for path in python_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel in MODEL_IMPORTERS or rel.startswith(allowed_prefixes):
            continue
        for module, name in imported_names(ast.parse(path.read_text())):
            if module == "records.models" and name in SUBJECT_MODELS:
                offences.append(f"{rel} imports {name}")
    assert offences == []


def test_templates_do_not_reach_into_models():
    """Templates receive view objects; a template calling a manager would be a query outside the choke point."""
    offences = []
    for path in [*(ROOT / "templates").rglob("*.html"), *(ROOT / "jinja_templates").rglob("*.jinja")]:
        text = path.read_text()
        for needle in (".objects", "_set.all", ".search_names", ".item_changes"):
            if needle in text:
                offences.append(f"{path.relative_to(ROOT)} uses {needle}")
    assert offences == []


def test_the_rule_catches_a_leaky_view(tmp_path):
    leaky = "from records.models import Subject\n\ndef v(request):\n    return Subject.objects.all()\n"
    tree = ast.parse(leaky)
    assert ("records.models", "Subject") in imported_names(tree)
    assert any(isinstance(n, ast.Attribute) and n.attr == "objects" for n in ast.walk(tree))


SUBJECT_TABLES = ("records_subject", "records_itemchange")  # records_subject also covers records_subjectname and the permission tables


def _names_subject_table(tree: ast.AST) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and any(t in node.value for t in SUBJECT_TABLES)
    ]


def test_surfaces_never_read_subject_tables_in_plain_sql():
    """The per-request reads are plain SQL now (mais/rawsql.py, issue 6); a surface writing its own SELECT on the
    subject tables would bypass the choke point without importing a subject model."""
    offences = [
        f"{path.relative_to(ROOT)}:{line} names a subject table"
        for path in python_files()
        if is_surface(path)
        for line in _names_subject_table(ast.parse(path.read_text()))
    ]
    assert offences == []


def test_the_rule_catches_plain_sql_in_a_view():
    leaky = 'def v(request):\n    cursor.execute("SELECT family_name FROM records_subject WHERE id = %s", [1])\n'
    assert _names_subject_table(ast.parse(leaky)) == [2]
