"""Ours against the authors': where a configuration departs from the settings of the authors'
scripts, and why. Each experiment module's `departures(config)` lists the rows; a chapter shows
them with `departure_table`."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Departure:
    setting: str       # what is compared
    ours: str          # its value in the configuration on the page
    authors: str       # its value in the authors' script or config file
    reason: str = ""   # why ours differs (required when it does)

    @property
    def departs(self):
        return self.ours != self.authors


def departure_table(rows, ours="this page"):
    """A markdown table: setting | ours | the authors' | why (an equal value reads "same")."""
    rows = list(rows)
    missing = [row.setting for row in rows if row.departs and not row.reason]
    if missing:
        raise ValueError(f"rows: a departure needs its reason: {', '.join(missing)}")
    lines = [f"| setting | {ours} | the authors' | why |", "|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row.setting} | {row.ours} | {row.authors if row.departs else 'same'} | "
                     f"{row.reason if row.departs else ''} |")
    return "\n".join(lines)
