"""みどり町 総合衛生システム: a small sample municipal back-office web system (FastAPI + SQLite).

It stands in for the vendor systems clerks type applications into, so that the web sink can be
tested against a real server and a real browser: login, a menu, a three-step entry form
(申請者 → 営業所・施設 → 確認) with Japanese validation errors, duplicate detection on the
外部連携番号, a search page, a confirmation page with the 受付番号, idle session logout, and faults
the tests switch on (slow responses, 503s, 503 after the commit, forced logouts).

    python -m samples.backoffice --port 8765 --db var/backoffice.db

Users come from ``BACKOFFICE_USERS`` ("id:password,id2:password2"); the fault switch
(``POST /_admin/faults``) needs the ``X-Admin-Token`` header equal to ``BACKOFFICE_ADMIN_TOKEN``.
"""
