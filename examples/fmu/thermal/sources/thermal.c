/* First-order thermal model as an FMI 2.0 co-simulation FMU:
 *   dT/dt = (k * P - (T - T_amb)) / tau
 * integrated with classic Runge-Kutta in sub-steps of at most 0.1 s. Inputs are held
 * constant over a communication step (what a co-simulation master passes). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fmi2Functions.h"

#define N_VARS 6
enum { VR_P, VR_T_AMB, VR_T, VR_K, VR_TAU, VR_T_START };
#define MAX_SUBSTEP 0.1

typedef struct {
    double v[N_VARS];
    double time;
    int initialized;
    fmi2CallbackFunctions cb;
} Model;

static const double DEFAULTS[N_VARS] = {0.0, 20.0, 20.0, 0.5, 120.0, 20.0};

static double slope(const Model *m, double T) {
    return (m->v[VR_K] * m->v[VR_P] - (T - m->v[VR_T_AMB])) / m->v[VR_TAU];
}

const char *fmi2GetTypesPlatform(void) { return fmi2TypesPlatform; }
const char *fmi2GetVersion(void) { return fmi2Version; }

fmi2Status fmi2SetDebugLogging(fmi2Component c, fmi2Boolean on, size_t n, const fmi2String cats[]) {
    (void)c; (void)on; (void)n; (void)cats;
    return fmi2OK;
}

fmi2Component fmi2Instantiate(fmi2String name, fmi2Type type, fmi2String guid,
                              fmi2String resources, const fmi2CallbackFunctions *functions,
                              fmi2Boolean visible, fmi2Boolean logging) {
    (void)name; (void)resources; (void)visible; (void)logging;
    if (type != fmi2CoSimulation) return NULL;
    if (!guid || strcmp(guid, "{5b1f0c1e-4d2a-4a57-9f39-7d2b8c0a6e11}") != 0) return NULL;
    Model *m = calloc(1, sizeof(Model));
    if (!m) return NULL;
    memcpy(m->v, DEFAULTS, sizeof(DEFAULTS));
    if (functions) m->cb = *functions;
    return m;
}

void fmi2FreeInstance(fmi2Component c) { free(c); }

fmi2Status fmi2SetupExperiment(fmi2Component c, fmi2Boolean tolDefined, fmi2Real tol,
                               fmi2Real start, fmi2Boolean stopDefined, fmi2Real stop) {
    (void)tolDefined; (void)tol; (void)stopDefined; (void)stop;
    ((Model *)c)->time = start;
    return fmi2OK;
}

fmi2Status fmi2EnterInitializationMode(fmi2Component c) { (void)c; return fmi2OK; }

fmi2Status fmi2ExitInitializationMode(fmi2Component c) {
    Model *m = c;
    m->v[VR_T] = m->v[VR_T_START];
    m->initialized = 1;
    return m->v[VR_TAU] > 0 ? fmi2OK : fmi2Error;
}

fmi2Status fmi2Terminate(fmi2Component c) { (void)c; return fmi2OK; }

fmi2Status fmi2Reset(fmi2Component c) {
    Model *m = c;
    memcpy(m->v, DEFAULTS, sizeof(DEFAULTS));
    m->initialized = 0;
    return fmi2OK;
}

fmi2Status fmi2GetReal(fmi2Component c, const fmi2ValueReference vr[], size_t n, fmi2Real value[]) {
    Model *m = c;
    for (size_t i = 0; i < n; i++) {
        if (vr[i] >= N_VARS) return fmi2Error;
        value[i] = m->v[vr[i]];
    }
    return fmi2OK;
}

fmi2Status fmi2SetReal(fmi2Component c, const fmi2ValueReference vr[], size_t n,
                       const fmi2Real value[]) {
    Model *m = c;
    for (size_t i = 0; i < n; i++) {
        if (vr[i] >= N_VARS || vr[i] == VR_T) return fmi2Error;
        if (m->initialized && vr[i] != VR_P && vr[i] != VR_T_AMB) return fmi2Error;
        m->v[vr[i]] = value[i];
    }
    return fmi2OK;
}

fmi2Status fmi2DoStep(fmi2Component c, fmi2Real t, fmi2Real h, fmi2Boolean noSetPrior) {
    Model *m = c;
    (void)noSetPrior;
    if (!m->initialized || h < 0) return fmi2Error;
    int steps = (int)ceil(h / MAX_SUBSTEP);
    if (steps < 1) steps = 1;
    double dt = h / steps, T = m->v[VR_T];
    for (int i = 0; i < steps; i++) {
        double k1 = slope(m, T), k2 = slope(m, T + 0.5 * dt * k1);
        double k3 = slope(m, T + 0.5 * dt * k2), k4 = slope(m, T + dt * k3);
        T += dt * (k1 + 2 * k2 + 2 * k3 + k4) / 6;
    }
    m->v[VR_T] = T;
    m->time = t + h;
    return fmi2OK;
}

/* Not supported by this model, but part of the interface every FMU exports. */
fmi2Status fmi2GetInteger(fmi2Component c, const fmi2ValueReference vr[], size_t n, fmi2Integer v[]) {
    (void)c; (void)vr; (void)v; return n ? fmi2Error : fmi2OK;
}
fmi2Status fmi2GetBoolean(fmi2Component c, const fmi2ValueReference vr[], size_t n, fmi2Boolean v[]) {
    (void)c; (void)vr; (void)v; return n ? fmi2Error : fmi2OK;
}
fmi2Status fmi2GetString(fmi2Component c, const fmi2ValueReference vr[], size_t n, fmi2String v[]) {
    (void)c; (void)vr; (void)v; return n ? fmi2Error : fmi2OK;
}
fmi2Status fmi2SetInteger(fmi2Component c, const fmi2ValueReference vr[], size_t n, const fmi2Integer v[]) {
    (void)c; (void)vr; (void)v; return n ? fmi2Error : fmi2OK;
}
fmi2Status fmi2SetBoolean(fmi2Component c, const fmi2ValueReference vr[], size_t n, const fmi2Boolean v[]) {
    (void)c; (void)vr; (void)v; return n ? fmi2Error : fmi2OK;
}
fmi2Status fmi2SetString(fmi2Component c, const fmi2ValueReference vr[], size_t n, const fmi2String v[]) {
    (void)c; (void)vr; (void)v; return n ? fmi2Error : fmi2OK;
}
fmi2Status fmi2GetFMUstate(fmi2Component c, fmi2FMUstate *s) { (void)c; (void)s; return fmi2Error; }
fmi2Status fmi2SetFMUstate(fmi2Component c, fmi2FMUstate s) { (void)c; (void)s; return fmi2Error; }
fmi2Status fmi2FreeFMUstate(fmi2Component c, fmi2FMUstate *s) { (void)c; (void)s; return fmi2Error; }
fmi2Status fmi2SerializedFMUstateSize(fmi2Component c, fmi2FMUstate s, size_t *n) {
    (void)c; (void)s; (void)n; return fmi2Error;
}
fmi2Status fmi2SerializeFMUstate(fmi2Component c, fmi2FMUstate s, fmi2Byte b[], size_t n) {
    (void)c; (void)s; (void)b; (void)n; return fmi2Error;
}
fmi2Status fmi2DeSerializeFMUstate(fmi2Component c, const fmi2Byte b[], size_t n, fmi2FMUstate *s) {
    (void)c; (void)b; (void)n; (void)s; return fmi2Error;
}
fmi2Status fmi2GetDirectionalDerivative(fmi2Component c, const fmi2ValueReference u[], size_t nu,
                                        const fmi2ValueReference z[], size_t nz,
                                        const fmi2Real dv[], fmi2Real dz[]) {
    (void)c; (void)u; (void)nu; (void)z; (void)nz; (void)dv; (void)dz; return fmi2Error;
}
fmi2Status fmi2SetRealInputDerivatives(fmi2Component c, const fmi2ValueReference vr[], size_t n,
                                       const fmi2Integer order[], const fmi2Real v[]) {
    (void)c; (void)vr; (void)n; (void)order; (void)v; return fmi2Error;
}
fmi2Status fmi2GetRealOutputDerivatives(fmi2Component c, const fmi2ValueReference vr[], size_t n,
                                        const fmi2Integer order[], fmi2Real v[]) {
    (void)c; (void)vr; (void)n; (void)order; (void)v; return fmi2Error;
}
fmi2Status fmi2CancelStep(fmi2Component c) { (void)c; return fmi2Error; }
fmi2Status fmi2GetStatus(fmi2Component c, const fmi2StatusKind k, fmi2Status *v) {
    (void)c; (void)k; (void)v; return fmi2Discard;
}
fmi2Status fmi2GetRealStatus(fmi2Component c, const fmi2StatusKind k, fmi2Real *v) {
    Model *m = c;
    if (k != fmi2LastSuccessfulTime) return fmi2Discard;
    *v = m->time;
    return fmi2OK;
}
fmi2Status fmi2GetIntegerStatus(fmi2Component c, const fmi2StatusKind k, fmi2Integer *v) {
    (void)c; (void)k; (void)v; return fmi2Discard;
}
fmi2Status fmi2GetBooleanStatus(fmi2Component c, const fmi2StatusKind k, fmi2Boolean *v) {
    (void)c; (void)k; (void)v; return fmi2Discard;
}
fmi2Status fmi2GetStringStatus(fmi2Component c, const fmi2StatusKind k, fmi2String *v) {
    (void)c; (void)k; (void)v; return fmi2Discard;
}
