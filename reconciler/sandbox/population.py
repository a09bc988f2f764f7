"""Approximate patron-population hints for the embedded sandbox.

The sandbox uses these numbers to seed a plausible number of users for each of the
Florida 40 institutions (students + faculty + staff + other borrowers), before any
scaling the sandbox applies. They are rough headcounts, not enrolment statistics, and
nothing outside the sandbox should rely on them.

They are kept out of ``institutions/<slug>/institution.yaml`` on purpose: institutions
edit that file, while the sandbox owns this one.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["PATRON_POPULATION"]

PATRON_POPULATION: Final[Mapping[str, int]] = MappingProxyType(
    {
        # State University System (12)
        "famu": 11_000,  # Florida A&M University
        "fau": 35_000,  # Florida Atlantic University
        "fgcu": 17_000,  # Florida Gulf Coast University
        "fiu": 60_000,  # Florida International University
        "fpu": 1_800,  # Florida Polytechnic University
        "fsu": 48_000,  # Florida State University
        "ncf": 900,  # New College of Florida
        "ucf": 75_000,  # University of Central Florida
        "ufl": 65_000,  # University of Florida
        "unf": 19_000,  # University of North Florida
        "usf": 55_000,  # University of South Florida
        "uwf": 15_000,  # University of West Florida
        # Florida College System (28)
        "bc": 55_000,  # Broward College
        "chipola": 3_000,  # Chipola College
        "cf": 9_000,  # College of Central Florida
        "fkcc": 3_000,  # College of the Florida Keys
        "dsc": 25_000,  # Daytona State College
        "efsc": 22_000,  # Eastern Florida State College
        "fgc": 4_000,  # Florida Gateway College
        "fsw": 22_000,  # Florida SouthWestern State College
        "fscj": 45_000,  # Florida State College at Jacksonville
        "gulfcoast": 6_000,  # Gulf Coast State College
        "hcc": 40_000,  # Hillsborough Community College
        "irsc": 25_000,  # Indian River State College
        "lssc": 6_000,  # Lake-Sumter State College
        "mdc": 100_000,  # Miami Dade College
        "nfc": 3_000,  # North Florida College
        "nwfsc": 7_000,  # Northwest Florida State College
        "pbsc": 45_000,  # Palm Beach State College
        "phsc": 14_000,  # Pasco-Hernando State College
        "psc": 14_000,  # Pensacola State College
        "polk": 15_000,  # Polk State College
        "sjrsc": 8_000,  # St. Johns River State College
        "spc": 45_000,  # St. Petersburg College
        "sfcollege": 22_000,  # Santa Fe College
        "ssc": 28_000,  # Seminole State College of Florida
        "sfsc": 3_500,  # South Florida State College
        "scf": 14_000,  # State College of Florida, Manatee-Sarasota
        "tcc": 22_000,  # Tallahassee State College
        "valencia": 60_000,  # Valencia College
    }
)
"""Approximate patrons per institution slug (every slug under ``institutions/``)."""
