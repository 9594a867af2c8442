"""One twin's submodels: nameplate, properties, signals, states, commands, bindings, rules."""

from __future__ import annotations

import math
from collections.abc import Iterator

from basyx.aas import model
from basyx.aas.model import datatypes

from plantwin.interop.aas import vocabulary as v
from plantwin.interop.aas.elements import (
    IdShorts,
    collection,
    json_qualifier,
    prop,
    qualifier,
    reference,
    text,
)
from plantwin.interop.aas.export_rules import rule_elements
from plantwin.interop.aas.ids import Ids, relative_signal, seconds
from plantwin.model.plant import (
    DEFAULT_COMMAND_TIMEOUT_NS,
    BindingDef,
    CommandDef,
    Plant,
    SignalDef,
    StateModel,
    Twin,
)
from plantwin.model.schema import DataType

VALUE_TYPES: dict[str, type[datatypes.AnyXSDType]] = {
    "float": datatypes.Double,
    "int": datatypes.Integer,
    "bool": datatypes.Boolean,
    "str": datatypes.String,
}


def twin_submodels(
    plant: Plant, twin: Twin, ids: Ids, bindings: dict[str, BindingDef]
) -> Iterator[model.Submodel]:
    """The submodels of ``twin``'s shell; those that would be empty are left out."""
    nameplate, others = _split_nameplate(twin)
    if nameplate:
        yield _submodel(ids, twin, v.NAMEPLATE_SUBMODEL, nameplate)
    if others:
        yield _submodel(ids, twin, v.PROPERTIES_SUBMODEL, others)
    signals = [plant.signals[key] for key in twin.signals]
    if signals:
        names = IdShorts()
        yield _submodel(ids, twin, v.SIGNALS_SUBMODEL, [_signal(s, names) for s in signals])
    if twin.states is not None:
        yield _submodel(ids, twin, v.STATES_SUBMODEL, _states(twin.states))
    if twin.commands:
        names = IdShorts()
        yield _submodel(ids, twin, v.COMMANDS_SUBMODEL, [_command(c, names) for c in twin.commands])
    own = _bindings(twin, signals, bindings)
    if own:
        yield _submodel(ids, twin, v.BINDINGS_SUBMODEL, own)
    if twin.rules:
        yield _submodel(ids, twin, v.RULES_SUBMODEL, rule_elements(twin.rules))


def _submodel(
    ids: Ids, twin: Twin, semantic_id: str, elements: list[model.SubmodelElement]
) -> model.Submodel:
    id_short = v.SUBMODEL_ID_SHORTS[semantic_id]
    return model.Submodel(
        ids.submodel(twin.id, id_short),
        elements,
        id_short=id_short,
        semantic_id=reference(semantic_id),
        kind=model.ModellingKind.INSTANCE,
    )


def _split_nameplate(twin: Twin) -> tuple[list[model.SubmodelElement], list[model.SubmodelElement]]:
    """Text-valued maker/model/serial go to the nameplate; everything else is a property."""
    nameplate: list[model.SubmodelElement] = []
    others: list[model.SubmodelElement] = []
    names = IdShorts()
    for name, value in twin.properties.items():
        mapped = v.NAMEPLATE_PROPERTIES.get(name)
        if mapped is not None and isinstance(value, str) and value:
            id_short, semantic_id = mapped
            if name == "serial":
                nameplate.append(prop(id_short, value, semantic_id=semantic_id))
            else:  # the template declares these two multi-language
                nameplate.append(
                    model.MultiLanguageProperty(
                        id_short, text(value), semantic_id=reference(semantic_id)
                    )
                )
            continue
        id_short, quals = names.take(name)
        others.append(prop(id_short, value, qualifiers=quals))
    return nameplate, others


def _signal(signal: SignalDef, names: IdShorts) -> model.SubmodelElementCollection:
    id_short, quals = names.take(signal.name)
    elements: list[model.SubmodelElement] = [
        prop(
            "Value",
            None,
            value_type=VALUE_TYPES[signal.dtype.value],
            data_specs=[_iec61360(signal)],
        ),
        prop("Unit", signal.unit),
    ]
    if signal.low is not None and signal.high is not None:
        elements.append(model.Range("Range", datatypes.Double, min=signal.low, max=signal.high))
    if signal.rate_hz is not None:
        elements.append(prop("Rate", signal.rate_hz, description="nominal rate in Hz"))
    elements.append(prop("Counter", signal.counter))
    if signal.derived is not None:
        elements.append(prop("Expression", signal.derived.expression.text))
    if signal.window is not None:
        window = signal.window
        parts = [
            prop("Signal", relative_signal(window.source, signal.twin)),
            prop("Function", window.fn.value),
            prop("Width", seconds(window.width_ns), description="window length in seconds"),
            prop("Every", seconds(window.every_ns), description="output period in seconds"),
        ]
        elements.append(collection("Window", parts, semantic_id=v.WINDOW))
    if signal.health is not None:
        elements.append(_health(signal))
    if signal.predict is not None:
        predict = signal.predict
        inputs = ", ".join(relative_signal(key, signal.twin) for key in predict.signals)
        parts = [
            prop("Model", predict.model, description="registered model name"),
            prop("Signals", inputs),
            prop("Every", seconds(predict.every_ns), description="prediction period in seconds"),
        ]
        if predict.version is not None:
            parts.append(prop("Version", relative_signal(predict.version, signal.twin)))
        elements.append(collection("Predict", parts, semantic_id=v.PREDICT))
    if signal.rul is not None:
        elements.append(_rul(signal))
    return collection(
        id_short,
        elements,
        semantic_id=v.SIGNAL,
        description=signal.description,
        qualifiers=quals,
    )


def _health(signal: SignalDef) -> model.SubmodelElementCollection:
    """An anomaly detector's health score: its inputs, and detector, fit and period or the
    health signal it is a part of."""
    health = signal.health
    assert health is not None
    names = ", ".join(relative_signal(key, signal.twin) for key in health.signals)
    parts: list[model.SubmodelElement] = [prop("Signals", names)]
    if health.of is not None:
        parts.append(prop("Of", relative_signal(health.of, signal.twin)))
    else:
        parts += [
            prop("Detector", health.detector),
            prop("Fit", seconds(health.fit_ns), description="healthy period in seconds"),
            prop("Every", seconds(health.every_ns), description="scoring period in seconds"),
        ]
        if health.healthy is not None:
            parts.append(_healthy_when(signal, health.healthy))
    return collection("Health", parts, semantic_id=v.HEALTH)


def _rul(signal: SignalDef) -> model.SubmodelElementCollection:
    """A registered model's remaining useful life over a condition signal, and the signals of
    its interval and model version."""
    rul = signal.rul
    assert rul is not None
    parts = [
        prop("Model", rul.model, description="registered model name"),
        prop("Signal", relative_signal(rul.signal, signal.twin)),
        prop("Running", relative_signal(rul.running, signal.twin)),
        prop("Failure", rul.failure, description="functional failure level of the signal"),
        prop("Every", seconds(rul.every_ns), description="prediction period in seconds"),
    ]
    for name, key in (("Low", rul.low), ("High", rul.high), ("Version", rul.version)):
        if key is not None:
            parts.append(prop(name, relative_signal(key, signal.twin)))
    return collection("Rul", parts, semantic_id=v.RUL)


def _healthy_when(
    signal: SignalDef, healthy: tuple[int, float, float]
) -> model.SubmodelElementCollection:
    """The rows of the fit period fitted on: limits in the unit of the signal they read."""
    assert signal.health is not None
    column, low, high = healthy
    parts = [prop("Signal", relative_signal(signal.health.signals[column], signal.twin))]
    if math.isfinite(low):
        parts.append(prop("Above", low))
    if math.isfinite(high):
        parts.append(prop("Below", high))
    return collection("HealthyWhen", parts)


def _iec61360(signal: SignalDef) -> model.EmbeddedDataSpecification:
    """The unit and data type where AAS tools look for them (IEC 61360 template)."""
    if signal.dtype is DataType.BOOL:
        data_type = model.DataTypeIEC61360.BOOLEAN
    elif signal.dtype is DataType.INT:
        data_type = (
            model.DataTypeIEC61360.INTEGER_COUNT
            if signal.counter
            else model.DataTypeIEC61360.INTEGER_MEASURE
        )
    else:
        data_type = model.DataTypeIEC61360.REAL_MEASURE
    content = model.DataSpecificationIEC61360(
        preferred_name=model.PreferredNameTypeIEC61360({v.LANGUAGE: signal.name}),
        data_type=data_type,
        definition=(
            model.DefinitionTypeIEC61360({v.LANGUAGE: signal.description})
            if signal.description
            else None
        ),
        unit=signal.symbol if signal.symbol != "1" else None,
    )
    return model.EmbeddedDataSpecification(reference(v.IEC61360), content)


def _states(states: StateModel) -> list[model.SubmodelElement]:
    names = IdShorts()
    values: list[model.SubmodelElement] = []
    for state in states.states:
        id_short, quals = names.take(state.name)
        values.append(
            collection(
                id_short,
                [prop("Code", state.code), prop("Category", state.category.value)],
                semantic_id=v.STATE,
                qualifiers=quals,
            )
        )
    return [
        prop("StateSignal", states.signal.rsplit("/", 1)[1]),
        collection("States", values),
    ]


def _command(command: CommandDef, names: IdShorts) -> model.Operation:
    id_short, quals = names.take(command.name)
    quals.append(json_qualifier("Critical", command.critical))
    if command.allowed_states is not None:
        quals.append(json_qualifier("AllowedStates", list(command.allowed_states)))
    loop = _closed_loop(command)
    if loop:
        quals.append(json_qualifier("ClosedLoop", loop))
    params = IdShorts()
    inputs: list[model.SubmodelElement] = []
    for param in command.params:
        param_id, param_quals = params.take(param.name)
        if param.unit is not None:
            param_quals.append(qualifier("Unit", param.unit))
        if param.low is not None:
            param_quals.append(json_qualifier("Min", param.low))
        if param.high is not None:
            param_quals.append(json_qualifier("Max", param.high))
        if param.choices is not None:
            param_quals.append(json_qualifier("Choices", list(param.choices)))
        if param.default is not None:
            param_quals.append(json_qualifier("Default", param.default))
        inputs.append(
            prop(
                param_id,
                None,
                value_type=VALUE_TYPES[param.dtype],
                semantic_id=v.PARAMETER,
                description=param.description,
                qualifiers=param_quals,
            )
        )
    return model.Operation(
        id_short,
        input_variable=inputs,
        description=text(command.description),
        semantic_id=reference(v.COMMAND),
        qualifier=quals,
    )


def _closed_loop(command: CommandDef) -> dict[str, object]:
    """The command's report, timeout and interlocks, as the plant file writes them."""
    out: dict[str, object] = {}
    if command.reports is not None:
        out["reports"] = command.reports.path
        if command.reports.tolerance:
            out["tolerance"] = command.reports.tolerance
    if command.timeout_ns != DEFAULT_COMMAND_TIMEOUT_NS:
        out["timeout"] = command.timeout_ns / 1e9
    if command.interlocks:
        out["interlocks"] = [{"when": i.when, "message": i.message} for i in command.interlocks]
    return out


def _bindings(
    twin: Twin, signals: list[SignalDef], bindings: dict[str, BindingDef]
) -> list[model.SubmodelElement]:
    """Signal and command bindings with the address resolved for this twin."""
    signal_items: list[model.SubmodelElement] = []
    names = IdShorts()
    for signal in signals:
        binding = bindings.get(signal.key)
        if binding is not None:
            signal_items.append(_binding(binding, signal.name, names))
    command_items: list[model.SubmodelElement] = []
    names = IdShorts()
    for command in twin.commands:
        if command.binding is not None:
            command_items.append(_binding(command.binding, command.name, names))
    out: list[model.SubmodelElement] = []
    if signal_items:
        out.append(collection("Signals", signal_items))
    if command_items:
        out.append(collection("Commands", command_items))
    return out


def _binding(binding: BindingDef, name: str, names: IdShorts) -> model.SubmodelElementCollection:
    id_short, quals = names.take(name)
    return collection(
        id_short,
        [
            prop("Connector", binding.connector),
            prop("Address", binding.address),
            prop("Scale", binding.scale),
            prop("Offset", binding.offset),
            prop("SourceUnit", binding.source_unit),
        ],
        semantic_id=v.BINDING,
        qualifiers=quals,
    )
