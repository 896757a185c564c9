"""What `copier update` runs in a generated project (copier.yml `_migrations`).

Copier runs ``python hooks/update before ...`` before it renders the new
version and ``python hooks/update after --template=...`` after (cli.py). Each
stage builds one Context (core.py: the project, the template checkout, the
answers before and after, one shared render of the old version) and runs the
steps of steps/ in their order; a repair step runs only for projects made
before the template change it repairs (steps.due).

Imports go one way, each module only from those above it:

    core          git, answers, renders, merges, errors, Context
    ownership     which user-owned files are new, kept, removed
    services_edit the stack files merged service by service
    makefile, samples, alembic      helpers of single steps
    dependencies  the template's dependency changes (every update)
    layout        the single -> multi switch (every update)
    steps/        one module per repair; steps/__init__.py the ordered registry
    summary       the update's summary composed from a report (pure)
    report        what the update did, with its summary, for scripts/update.py
    cli           the stages, `answer`, `check`

and from the model-level modules of hooks/ (gitutil, services, files, model,
dependencies), which never import this package.
"""
