"""The documents a coordinator sends after a session.

``model`` is the plain record of a session (built from the event log by
``build``); each other module renders it into one format and is a pure
function: ``markdown``, ``docx``, ``pdf`` (+ ``charts``), ``csv`` (CSV and
JSON), ``journal_note``, ``ics`` and ``plan`` (the development plan).
Nothing is imported here, so importing the package does not load WeasyPrint.
"""
