"""A town's bot that never finishes a file named slow*.pdf: a parser stuck in a loop, in effect."""
from __future__ import annotations

import time

from bots.child_medical import ChildMedical
from kakari.model import Record
from ocr.document import Document


class SlowChild(ChildMedical):
    name = "slow_child"
    template = ChildMedical.template

    def read(self, doc: Document) -> Record:
        if doc.path.name.split("__")[-1].startswith("slow"):
            time.sleep(600)
        return super().read(doc)
