"""What arrives from outside: the units' monthly workbooks and their list sheets, the bureau's plan
and target lists, the registry; the inbox's ingestion, the submission template, validation and
the audit of a figure back to its cells."""
