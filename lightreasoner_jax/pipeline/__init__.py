"""The pipeline: each stage's `run(config, workdir, mesh)` (*_stage.py, report.py, model_check.py), the
stage table with its skip/resume/refuse bookkeeping (stages.py), the workdir layout (workdir.py),
config sections -> library dataclasses (settings.py), sweeps and the toy world build."""
