"""What every app may use and that belongs to no app: facts about the request being served and
the staff-home link type. Below ``accounts``, ``audit`` and every domain app; imports no app and no
part of ``openmnr.web`` (import contracts in ``make lint`` check it)."""
