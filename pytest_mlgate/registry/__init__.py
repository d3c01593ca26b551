"""The MLflow side of the gate: where models come from and where decisions go.

Everything here imports ``mlflow`` lazily (the ``mlflow`` extra). ``connect``
finds the tracking server and turns MLflow's exceptions into our errors;
``publish`` logs a report onto the candidate; ``promotion`` moves aliases under
a lock and keeps the ledger; ``gittag`` tags the commit that was gated.
"""
