"""Map and question difficulty.

Map difficulty comes from the number of lines and of transfer stations (stations on two
or more lines). The thresholds split the 30 real ReasonMap cities 10 / 10 / 10:

- easy:   at most 3 lines and at most 15 transfer stations
          (sydney, changzhou, huhehaote, dubai, miami, jinan, rome, guiyang, toronto, auckland)
- hard:   at least 6 lines and at least 15 transfer stations
          (changsha, singapore, washington, kl, xian, hangzhou, shenzhen, shanghai,
          beijing, new_york)
- middle: everything else
          (budapest, lisboa, nanchang, nanning, oslo, geneva, dalian, kunming, hefei,
          los_angeles)

Question difficulty of a route question comes from the transfers of its reference route:
0 easy, 1 middle, 2 or more hard. A Plus question takes its map's difficulty.
"""

from __future__ import annotations

EASY_MAX_LINES = 3
EASY_MAX_TRANSFERS = 15
HARD_MIN_LINES = 6
HARD_MIN_TRANSFERS = 15


def map_difficulty(line_count: int, transfer_count: int) -> str:
    """
    >>> map_difficulty(3, 4), map_difficulty(5, 39), map_difficulty(6, 24)
    ('easy', 'middle', 'hard')
    """
    if line_count <= EASY_MAX_LINES and transfer_count <= EASY_MAX_TRANSFERS:
        return "easy"
    if line_count >= HARD_MIN_LINES and transfer_count >= HARD_MIN_TRANSFERS:
        return "hard"
    return "middle"


def question_difficulty(transfers: int) -> str:
    """
    >>> [question_difficulty(t) for t in (0, 1, 2, 5)]
    ['easy', 'middle', 'hard', 'hard']
    """
    return "easy" if transfers == 0 else "middle" if transfers == 1 else "hard"
