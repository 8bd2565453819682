"""The masking engine behind ``bots/mask_numbers.py`` and ``kakari mask``: find personal numbers
(``find``), burn boxes into page images and write a clean PDF (``render``), and read the result again
to prove nothing is left (``verify``); ``engine`` runs the three on one file.

Imported only when a document is masked (the bots package walk imports this ``__init__`` alone).
"""
