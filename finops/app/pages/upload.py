"""Upload page: several exports at once, each previewed (format, rows, models, errors), then
loaded as one all-or-nothing upload with a per-file result."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from finops.app import support as ui
from finops.core.format import plural
from finops.core.store import StoreError
from finops.ingest import IngestError
from finops.pricing.catalog import load_catalog
from finops.views import upload

st.title("Upload")
if not ui.may_upload():
    st.info("Uploading is for finops admins: your view is limited to your teams' spend.")
    st.stop()
st.write(
    "Drop provider exports (OpenAI, Anthropic, Bedrock, Azure, GCP, LiteLLM, FOCUS, the "
    "canonical CSV/Parquet…). Each file is checked and previewed first; loading is one "
    "transaction: every row of every file, or nothing. Re-uploading an export never double counts."
)


@st.cache_resource(show_spinner="Loading the price catalog…")
def _catalog(pricing: str | None, version: str):
    return load_catalog(pricing)


@st.cache_data(show_spinner=False, max_entries=64)
def _preview(name: str, data: bytes, pricing: str | None, version: str):
    with tempfile.TemporaryDirectory(prefix="finops-preview-") as tmp:
        [path] = upload.save_uploads([(name, data)], Path(tmp))
        return upload.preview_file(path, _catalog(pricing, version), name=name)


state = st.session_state
uploader_key = f"uploads_{state.get('upload_round', 0)}"
files = st.file_uploader(
    "Usage exports",
    accept_multiple_files=True,
    key=uploader_key,
    help="CSV, JSON, JSONL, Parquet, or a .gz / single-file .zip of one",
)

if "upload_result" in state:
    result = state["upload_result"]
    st.success(result["message"])
    ui.show_table(result["files"])
    for model in result["unpriced"]:
        st.warning(f"Unpriced model: {model} — no catalog price; its usage is counted, not costed.")
    if result.get("unpriced_warning"):
        st.warning(result["unpriced_warning"])

if not files:
    st.stop()

version = ui.data_version(ui.store_path())
bar = st.progress(0.0, text="Checking files…")
previews = []
for index, f in enumerate(files):
    data = f.getvalue()
    bar.progress(index / len(files), text=f"Checking {f.name} ({index + 1} of {len(files)})…")
    previews.append(_preview(f.name, data, ui.pricing_path(), version))
bar.progress(1.0, text=f"Checked {plural(len(files), 'file')}.")

for p in previews:
    if not p.ok:
        st.error(p.error, icon="🚫")
        continue
    with st.expander(
        f"✅ {p.name} — {p.description}: {plural(p.rows, 'row')}, {p.first_day} to {p.last_day}",
        expanded=len(previews) == 1,
    ):
        if p.cost_only:
            st.info(
                "A cost data set: it is kept to reconcile computed cost against "
                "(`finops reconcile`), never added to usage."
            )
        st.write(f"Models: {', '.join(p.models)}")
        if p.unpriced_models:
            st.warning(
                f"No catalog price for: {', '.join(p.unpriced_models)}. Their usage will be "
                "counted as unpriced, never as $0."
            )
        ui.show_table(p.sample)

bad = [p for p in previews if not p.ok]
if bad:
    st.error(
        f"{len(bad)} of {plural(len(previews), 'file')} cannot be loaded; fix or remove them. "
        "Nothing has been written to the store."
    )
    st.stop()

rows = sum(p.rows for p in previews)
replace = st.checkbox(
    "Replace overlapping days",
    help=(
        "Where these files hold usage already stored another way (an hourly export over a "
        "daily one, a FOCUS file over the CUR of the same bill), keep these files' rows for "
        "those days. Unticked, such an upload is refused and nothing is written."
    ),
)
if st.button(
    f"Load {plural(len(previews), 'file')}, {plural(rows, 'row')}, into the store", type="primary"
):
    progress = st.progress(0.0, text="Saving files…")
    with tempfile.TemporaryDirectory(prefix="finops-upload-") as tmp:
        paths = upload.save_uploads([(f.name, f.getvalue()) for f in files], Path(tmp))
        names = {str(path): f.name for path, f in zip(paths, files, strict=True)}
        order = upload.upload_order(paths)
        progress.progress(0.0, text=f"Loading {plural(len(paths), 'file')} as one upload…")

        def on_progress(file: str, step: str, percent: float) -> None:
            # DuckDB progress polls arrive from a worker thread, which cannot draw
            if get_script_run_ctx(suppress_warning=True) is not None:
                progress.progress(
                    upload.overall_fraction(order, file, step, percent),
                    text=f"{names.get(file, file)}: {step}…",
                )

        try:
            with ui.session() as s:
                report = upload.load_files(s, paths, progress=on_progress, replace_overlap=replace)
        except IngestError as exc:
            progress.empty()
            problem = upload.describe_error(exc, names, replace_hint=upload.REPLACE_CHOICE)
            st.error(f"{problem} — nothing was loaded.", icon="🚫")
            st.stop()
        except StoreError as exc:
            progress.empty()
            st.error(f"{exc} — nothing was loaded.", icon="🚫")
            st.stop()
    progress.progress(1.0, text="Done.")
    state["upload_result"] = {
        "message": (
            f"Upload {report.ingest_id}: {report.rows_new:,} new, {report.rows_duplicate:,} "
            f"duplicate, {report.rows_replaced:,} replaced rows from {plural(len(paths), 'file')}."
        ),
        "files": upload.report_frame(report, names),
        "unpriced": report.unpriced_models,
        "unpriced_warning": report.unpriced_warning,
    }
    state["upload_round"] = state.get("upload_round", 0) + 1
    st.rerun()
