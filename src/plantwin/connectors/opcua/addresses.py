"""Binding addresses of an OPC UA connector and how they become node ids on a server.

Three forms are accepted (docs/plant-file.md):

- a node id: ``ns=2;s=L1/mill1/power``, ``i=2258``, ``nsu=urn:acme:plc;s=Header.Pressure``
  (``nsu=`` names the namespace by URI, which survives a server renumbering its namespaces);
- a browse path below the Objects folder: ``/2:changwon/2:L1/2:mill1/2:power``; a segment
  without ``N:`` is in the connector's ``namespace`` (or namespace 0 without one);
- any other text, when the connector has a ``namespace`` option: the string identifier in
  that namespace, so ``L1/mill1/power`` means ``nsu=<namespace>;s=L1/mill1/power``.

Namespace URIs and browse paths are resolved at every (re)connect, because a restarted server
may number its namespaces differently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.uaerrors import UaError

from plantwin.core.errors import ConnectorError

_NODE_ID = re.compile(r"^(ns=\d+;|nsu=[^;]+;)?(i|s|g|b)=", re.ASCII)
_NSU = re.compile(r"^nsu=([^;]+);(.*)$", re.DOTALL)
_SEGMENT = re.compile(r"^(\d+):(.+)$", re.DOTALL)


class AddressForm(StrEnum):
    NODE_ID = "node id"
    BROWSE_PATH = "browse path"
    NAMESPACE_STRING = "string in namespace"


@dataclass(frozen=True, slots=True)
class Address:
    text: str  # as written in the plant file (and reported in readings)
    form: AddressForm


def classify(text: str, *, namespace: str | None, where: str) -> Address:
    """The form of ``text``; raise ConnectorError naming ``where`` when it has none."""
    if _NODE_ID.match(text):
        return Address(text, AddressForm.NODE_ID)
    if text.startswith("/") and len(text) > 1:
        return Address(text, AddressForm.BROWSE_PATH)
    if namespace is not None and text:
        return Address(text, AddressForm.NAMESPACE_STRING)
    msg = (
        f"{where}: address {text!r} is neither a node id (ns=2;s=...) nor a browse path "
        "(/2:Site/2:Signal); give the connector a 'namespace' option to use plain string ids"
    )
    raise ConnectorError(msg)


async def resolve(
    client: Client, addresses: Sequence[Address], namespace: str | None
) -> list[ua.NodeId | str]:
    """Node id per address, or a message saying why that address has none on this server."""
    uris: list[str] = await client.get_namespace_array()
    default_ns: int | None = None
    if namespace is not None:
        default_ns = uris.index(namespace) if namespace in uris else None
    out: list[ua.NodeId | str] = []
    paths: list[tuple[int, list[str]]] = []
    for i, address in enumerate(addresses):
        try:
            if address.form is AddressForm.NODE_ID:
                out.append(_node_id(address.text, uris))
            elif address.form is AddressForm.NAMESPACE_STRING:
                if default_ns is None:
                    raise ValueError(f"the server has no namespace {namespace!r}")
                out.append(ua.NodeId(ua.String(address.text), ua.Int16(default_ns)))
            else:
                out.append("")
                paths.append((i, _segments(address.text, default_ns)))
        except ValueError as err:
            out.append(str(err))
    if paths:
        root = client.nodes.objects.nodeid
        found = await _translate(client, root, [p for _, p in paths])
        for (i, _), node in zip(paths, found, strict=True):
            out[i] = node
    return out


def _node_id(text: str, uris: list[str]) -> ua.NodeId:
    match = _NSU.match(text)
    if match is not None:
        uri, rest = match.groups()
        if uri not in uris:
            raise ValueError(f"the server has no namespace {uri!r}")
        text = f"ns={uris.index(uri)};{rest}"
    try:
        node = ua.NodeId.from_string(text)
    except (ValueError, UaError) as err:
        raise ValueError(f"not a valid node id: {err}") from err
    return ua.NodeId(node.Identifier, node.NamespaceIndex, node.NodeIdType)


def _segments(path: str, default_ns: int | None) -> list[str]:
    out = []
    for segment in path.strip("/").split("/"):
        match = _SEGMENT.match(segment)
        out.append(segment if match else f"{default_ns or 0}:{segment}")
    return out


async def _translate(
    client: Client, root: ua.NodeId, paths: list[list[str]]
) -> list[ua.NodeId | str]:
    """One TranslateBrowsePathsToNodeIds call for all browse paths."""
    requests = []
    for segments in paths:
        elements = []
        for segment in segments:
            ns, name = segment.split(":", 1)
            elements.append(
                ua.RelativePathElement(
                    ReferenceTypeId=ua.NodeId(ua.Int32(ObjectIds.HierarchicalReferences)),
                    IsInverse=False,  # type: ignore[arg-type]  # asyncua types bool fields as a class
                    IncludeSubtypes=True,  # type: ignore[arg-type]  # asyncua declares its Boolean class
                    TargetName=ua.QualifiedName(name, int(ns)),
                )
            )
        requests.append(
            ua.BrowsePath(StartingNode=root, RelativePath=ua.RelativePath(Elements=elements))
        )
    results = await client.uaclient.translate_browsepaths_to_nodeids(requests)
    out: list[ua.NodeId | str] = []
    for result in results:
        if result.StatusCode.is_good() and result.Targets:
            target = result.Targets[0].TargetId
            out.append(ua.NodeId(target.Identifier, target.NamespaceIndex, target.NodeIdType))
        else:
            out.append(f"browse path not found ({result.StatusCode.name})")
    return out
