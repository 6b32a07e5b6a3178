"""What a single GraphQL request may ask for: depth, tokens, aliases, a cost on list sizes, introspection.

The cost of an operation is the number of objects it may return at most: every field returning objects
costs 1 per object, times the page size of each enclosing list — ``first`` of a connection (its default
when omitted), :data:`LIST_WEIGHT` for a plain list of objects (a household's members, a region's
children); a connection's ``nodes``/``edges`` count once, their size is the connection's ``first``.
``households(first: 100) { nodes { members { name } } }`` costs 100 × (1 + 1 + 20) = 2,200.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    is_object_type,
    value_from_ast,
)
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from app.graphql.connections import DEFAULT_FIRST
from app.settings import Settings

LIST_WEIGHT = 20  # what a plain list of objects (no ``first``) counts for


def operation_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> int:
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    return _selection_cost(schema, root, operation.selection_set, fragments, variables, frozenset())


def _fields(
    schema: GraphQLSchema,
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: frozenset[str],
) -> Iterator[tuple[FieldNode, frozenset[str]]]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection, seen
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(schema, selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:  # cycles are refused by validation anyway
                yield from _fields(schema, fragment.selection_set, fragments, seen | {name})


def _selection_cost(
    schema: GraphQLSchema,
    parent: GraphQLNamedType,
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    seen: frozenset[str],
) -> int:
    total = 0
    for node, inner_seen in _fields(schema, selection_set, fragments, seen):
        if not isinstance(parent, GraphQLObjectType) or node.selection_set is None:
            continue
        definition = parent.fields.get(node.name.value)
        if definition is None:  # __typename, introspection: validation decides
            continue
        named = get_named_type(definition.type)
        if not is_object_type(named):
            continue
        multiplier = 1
        if "first" in definition.args:
            argument = next((a for a in node.arguments or () if a.name.value == "first"), None)
            value = (
                value_from_ast(argument.value, definition.args["first"].type, dict(variables))
                if argument is not None
                else definition.args["first"].default_value
            )
            multiplier = value if isinstance(value, int) and value > 0 else DEFAULT_FIRST
        elif isinstance(get_nullable_type(definition.type), GraphQLList) and not parent.name.endswith(
            "Connection"
        ):
            multiplier = LIST_WEIGHT
        elif is_list_type(get_nullable_type(definition.type)):
            multiplier = 1  # a connection's nodes/edges: its ``first`` already counted them
        inner = _selection_cost(schema, named, node.selection_set, fragments, variables, inner_seen)
        total += multiplier * (1 + inner)
    return total


class QueryCostLimiter(SchemaExtension):
    """Refuses an operation whose cost (see the module) exceeds the limit, before anything runs."""

    def __init__(self, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            fragments = {
                d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
            }
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if context.operation_name is not None:
                operations = [o for o in operations if o.name and o.name.value == context.operation_name]
            schema = context.schema._schema
            for operation in operations[:1]:
                cost = operation_cost(schema, operation, fragments, context.variables or {})
                if cost > self.max_cost:
                    context.result = ExecutionResult(
                        data=None,
                        errors=[
                            GraphQLError(
                                f"The query may return up to {cost} objects, more than the limit of "
                                f"{self.max_cost}: ask for smaller pages (`first`) or fewer nested lists.",
                                extensions={"code": "graphql.too_costly", "status": 400, "cost": cost},
                            )
                        ],
                    )
        yield


def limit_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """The limits of one schema, from the settings: factories, so each operation gets its own instances."""
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=settings.graphql_max_tokens),
        partial(MaxAliasesLimiter, max_alias_count=settings.graphql_max_aliases),
        partial(QueryDepthLimiter, max_depth=settings.graphql_max_depth),
        partial(QueryCostLimiter, max_cost=settings.graphql_max_cost),
    ]
    if not settings.graphql_introspection:
        extensions.append(DisableIntrospection)
    return extensions
