"""Scheduled jobs: thin functions that open an app context, call a service and commit.

They run in one scheduler process only, never inside the web workers.
"""
