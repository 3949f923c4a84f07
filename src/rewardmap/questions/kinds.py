"""Question types and difficulty levels."""

PLUS_TYPES = ("Counting1", "Counting2", "Counting3", "TorF1", "TorF2")
ROUTE_TYPE = "planning"
QUESTION_TYPES = PLUS_TYPES + (ROUTE_TYPE,)
DIFFICULTIES = ("easy", "middle", "hard")
