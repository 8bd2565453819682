"""Reading a blank form a town made itself: what is printed on it (``sheet``: text runs, ruled
segments, small squares, shading; from a PDF's text layer and drawing, or from a scan by line
morphology and OCR), the cells the rulings enclose (``cells``), and where an applicant writes
(``find``: one guess per field, with the reason and how often that kind of guess is right).
``bots.scaffold`` turns the guesses into a bot; the zone editor lets a person correct them.

Modules here load numpy, OpenCV and pdfplumber only when a blank is actually read.
"""
