"""The engagement (forløb): what flows from one session into the next.

One module per action, each a few async functions over the store:

- `cases`: the pseudonymised case register and its CSV import;
- `selection`: choosing the cases for the full-day meeting, with a reason each;
- `sessions`: what a new session starts from (cases, focus areas) and what a
  finished one produced (its state, replayed from the log);
- `focus_areas`: the full-day meeting's themes proposed as focus areas;
- `consultation`: the høring, by link and access code, over a window of days;
- `plan`: development-plan rows from the implementation workshop's ranking;
- `status`: each row's status as follow-up and steering-group meetings set it;
- `timeline`: the engagement's sessions in order, and its cadences;
- `status_note`: the status note's first draft (DOCX).

Free text is trimmed, bounded and CPR-masked here before it is stored, as the
engine does for live sessions. Refusals carry an English msgid (`Msg`) that
the pages translate.
"""
