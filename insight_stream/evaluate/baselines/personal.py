"""Personal frequency: the user's most bought items so far."""

from __future__ import annotations


class PersonalFrequency:
    """The user's items by number of orders containing them, ties to the most
    recently bought, then by id.

    >>> pf = PersonalFrequency()
    >>> pf.learn("u", ["milk", "jam"], 0)
    >>> pf.learn("u", ["milk", "eggs"], 1)
    >>> pf.recommend("u", 3), pf.recommend("other", 3)
    (['milk', 'eggs', 'jam'], [])
    """

    __slots__ = ("history", "n")

    def __init__(self) -> None:
        self.history: dict[str, dict[str, tuple[int, int]]] = {}
        self.n = 0

    def learn(self, user: str, items: list[str], ts: int) -> None:
        self.n += 1
        history = self.history.setdefault(user, {})
        for item in items:
            history[item] = (history.get(item, (0, 0))[0] + 1, self.n)

    def recommend(self, user: str, k: int) -> list[str]:
        history = self.history.get(user)
        if not history:
            return []
        return sorted(history, key=lambda i: (-history[i][0], -history[i][1], i))[:k]
