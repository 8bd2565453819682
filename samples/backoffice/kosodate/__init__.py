"""みどり町 子育て支援総合システム: a second sample back-office system, built unlike the 衛生システム so
the web sink is tested against both. Everything a real vendor system does to an RPA tool: a sign-in with
its own field names, a portal whose menu sits behind a tab, a multi-step entry behind a per-entry flow
key in the URL, a フリガナ input whose id and name change on every load, 和暦 in one box as `R6.9.11`,
birth dates in three boxes with the year in 西暦, code-valued radios and selects, a required file
upload, a 確認 page, 「登録しました。受付番号：R8-000001」 inside a sentence, no duplicate check at all,
0.5–1.5 s per request, 5% 503s and a session that ends after 25 requests.

    python -m samples.backoffice --system kosodate --port 8766 --db var/kosodate.db
"""
