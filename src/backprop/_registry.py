"""One registry per family of named objects (activations, losses, initialisers, optimisers).

Every family resolves names the same way: ``registry.get("relu")`` returns a fresh object,
an instance passes through unchanged, and an unknown name raises a ``ValueError`` that lists
the valid names. Resolution happens once, at construction, never in the hot path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Name → factory table for one family of objects.

    Parameters
    ----------
    family : str
        Human name of the family, used in error messages ("activation", "loss", ...).
    base : type
        Instances of this type are accepted as-is by :meth:`get`.

    Examples
    --------
    >>> reg = Registry("colour", object)
    >>> reg.register("red")(lambda: "#f00")  # doctest: +ELLIPSIS
    <function ...>
    >>> reg.get("red")
    '#f00'
    """

    def __init__(self, family: str, base: type) -> None:
        self.family = family
        self.base = base
        self._factories: dict[str, Callable[..., T]] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, *aliases: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator registering a factory (class or function) under ``name`` and aliases."""

        def decorate(factory: Callable[..., T]) -> Callable[..., T]:
            self._factories[name] = factory
            for alias in aliases:
                self._aliases[alias] = name
            return factory

        return decorate

    def names(self) -> list[str]:
        """Canonical names, sorted (aliases excluded)."""
        return sorted(self._factories)

    def all_names(self) -> list[str]:
        """Canonical names and aliases, sorted."""
        return sorted([*self._factories, *self._aliases])

    def canonical(self, name: str) -> str:
        """The canonical name for ``name`` (resolving an alias); raises for unknown names."""
        if not isinstance(name, str):
            raise TypeError(f"{self.family} name must be a string; got {type(name).__name__}")
        key = name.strip().lower()
        key = self._aliases.get(key, key)
        if key not in self._factories:
            raise ValueError(
                f"unknown {self.family} {name!r}; choose one of: {', '.join(self.all_names())}"
            )
        return key

    def get(self, spec: Any, **kwargs: Any) -> T:
        """Resolve ``spec`` to an object.

        Parameters
        ----------
        spec : str, dict or instance
            A registered name, a config dict ``{"name": ..., **options}`` as produced by
            ``get_config()``, or an instance of the family's base type (returned unchanged).
        **kwargs
            Options passed to the factory when ``spec`` is a name.
        """
        if isinstance(spec, self.base):
            return spec
        if isinstance(spec, dict):
            options = dict(spec)
            try:
                name = options.pop("name")
            except KeyError:
                raise ValueError(
                    f"{self.family} config must have a 'name' key; got keys {sorted(spec)}"
                ) from None
            return self._factories[self.canonical(name)](**options, **kwargs)
        if isinstance(spec, str):
            return self._factories[self.canonical(spec)](**kwargs)
        raise TypeError(
            f"{self.family} must be a name (one of: {', '.join(self.names())}) "
            f"or a {self.base.__name__} instance; got {type(spec).__name__}"
        )
