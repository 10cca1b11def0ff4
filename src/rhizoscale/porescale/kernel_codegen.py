"""Writes ``_lattice_kernels.py``: the collide kernel unrolled for D2Q9 and D3Q19.

The generic :func:`~rhizoscale.porescale.stream_collide.collide_kernel` loops over the
directions with velocities read from an array; here every direction is written out with
its velocity components as literals, so ``e_i . u`` is ``u_x + u_y`` and not three
multiplications, and the compiler keeps the populations in registers. The generated file
is committed (Numba caches only functions defined in files); ``tests`` check that it is
what this generator writes, and that it matches the NumPy specification.

    python -m rhizoscale.porescale.kernel_codegen      # rewrite _lattice_kernels.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .lattice import D2Q9, D3Q19

TARGET = Path(__file__).with_name("_lattice_kernels.py")


def _lin(coeffs, names):
    terms = []
    for c, n in zip(coeffs, names):
        if c == 0:
            continue
        s = "+" if c > 0 else "-"
        mag = "" if abs(c) == 1 else f"{abs(c)} * "
        terms.append((s, f"{mag}{n}"))
    if not terms:
        return "0.0"
    out = ("-" if terms[0][0] == "-" else "") + terms[0][1]
    for s, t in terms[1:]:
        out += f" {s} {t}"
    return f"({out})"


def _shape(w, e, dim):
    """Li et al.'s isotropic term per direction: ``w_i (|e_i|^2 - D c_s^2) / (2 c_s^4)``."""
    return float(w) * (float((np.asarray(e) ** 2).sum()) - dim / 3.0) * 4.5


def _row(a, b):
    def tag(v):
        return {-1: "m", 0: "0", 1: "p"}[int(v)]
    return f"{tag(a)}{tag(b)}"


def _kernel(lat) -> str:
    e = lat.velocities
    w = lat.weights
    q = lat.q
    name = lat.name.lower()
    pairs = sorted({(int(a), int(b)) for a, b, _ in e})
    L = []
    A = L.append
    A(f"def _collide_{name}_py(f, fnew, index, psi, G, omega_plus, omega_minus, forcing, sigma):")
    A(f'    """{lat.name} pull-stream, Shan–Chen force and collision (generated; see')
    A('    ``stream_collide.collide_kernel`` for the generic version it must equal)."""')
    A("    nz, ny, nx = index.shape")
    A("    cp = 1.0 - 0.5 * omega_plus")
    A("    cm = 1.0 - 0.5 * omega_minus")
    A("    li2 = 2.0 * omega_plus * sigma * G * G")
    A("    for r in numba.prange(nz * ny):")
    A("        z = r // ny")
    A("        y = r - z * ny")
    A("        own = index[z, y]")
    for a, b in pairs:
        A(f"        src_{_row(a, b)} = index[_wrap(z - {a}, nz), _wrap(y - {b}, ny)]")
        A(f"        psi_{_row(a, b)} = psi[_wrap(z + {a}, nz), _wrap(y + {b}, ny)]")
    A("        for x in range(nx):")
    A("            k = own[x]")
    A("            if k < 0:")
    A("                continue")
    A("            xm = x - 1 if x > 0 else nx - 1")
    A("            xp = x + 1 if x < nx - 1 else 0")
    xs = {-1: "xp", 0: "x", 1: "xm"}    # pull from x - e_x
    xn = {-1: "xm", 0: "x", 1: "xp"}    # neighbour x + e_x
    for i in range(q):
        a, b, c = (int(v) for v in e[i])
        o = int(lat.opposite[i])
        A(f"            ks = src_{_row(a, b)}[{xs[c]}]")
        A(f"            f{i} = np.float64(f[{i}, ks]) if ks >= 0 else np.float64(f[{o}, k])")
    # force: sum_i w_i psi(x + e_i) e_i
    comps = []
    for ax in range(3):
        terms = []
        for i in range(q):
            c = int(e[i, ax])
            if c == 0:
                continue
            a, b, cx = (int(v) for v in e[i])
            terms.append(f"{'+' if c > 0 else '-'} {float(w[i])!r} * psi_{_row(a, b)}[{xn[cx]}]")
        if terms:
            t = " ".join(terms)
            t = t[2:] if t.startswith("+ ") else "-" + t[2:]
            comps.append(f"({t})")
        else:
            comps.append("0.0")
    A("            g = -G * np.float64(psi[z, y, x])")
    A(f"            az = {comps[0]}")
    A(f"            ay = {comps[1]}")
    A(f"            ax = {comps[2]}")
    A("            Fz = g * az")
    A("            Fy = g * ay")
    A("            Fx = g * ax")
    A("            li = li2 * (az * az + ay * ay + ax * ax) if forcing == 3 else 0.0")
    A("            rho = " + " + ".join(f"f{i}" for i in range(q)))
    for ax, nm in enumerate(("jz", "jy", "jx")):
        A(f"            {nm} = " + _lin([int(e[i, ax]) for i in range(q)], [f"f{i}" for i in range(q)]))
    A("            inv = 1.0 / rho")
    A("            if forcing == 0:")
    A("                uz = (jz + Fz / omega_plus) * inv")
    A("                uy = (jy + Fy / omega_plus) * inv")
    A("                ux = (jx + Fx / omega_plus) * inv")
    A("            elif forcing == 1 or forcing == 3:")
    A("                uz = (jz + 0.5 * Fz) * inv")
    A("                uy = (jy + 0.5 * Fy) * inv")
    A("                ux = (jx + 0.5 * Fx) * inv")
    A("            else:")
    A("                uz = jz * inv")
    A("                uy = jy * inv")
    A("                ux = jx * inv")
    A("            uu = uz * uz + uy * uy + ux * ux")
    A("            vz = uz + Fz * inv")
    A("            vy = uy + Fy * inv")
    A("            vx = ux + Fx * inv")
    A("            vv = vz * vz + vy * vy + vx * vx")
    A("            uF = uz * Fz + uy * Fy + ux * Fx")
    A("            feq_rest = 1.0 - 1.5 * uu")
    done = set()
    for i in range(q):
        o = int(lat.opposite[i])
        if o in done or i in done:
            continue
        done.update((i, o))
        wi = repr(float(w[i]))
        if o == i:
            A(f"            feq = {wi} * rho * feq_rest")
            A("            if forcing == 1 or forcing == 3:")
            A(f"                s = {wi} * cp * (-3.0 * uF) + {_shape(w[i], e[i], lat.dim)!r} * li")
            A("            elif forcing == 2:")
            A(f"                s = {wi} * rho * (-1.5 * vv + 1.5 * uu)")
            A("            else:")
            A("                s = 0.0")
            A(f"            fnew[{i}, k] = f{i} - omega_plus * (f{i} - feq) + s")
            continue
        ev = [int(v) for v in e[i]]
        eu = _lin(ev, ["uz", "uy", "ux"])
        A(f"            eu = {eu}")
        A(f"            base = {wi} * rho * (feq_rest + 4.5 * eu * eu)")
        A(f"            odd = {wi} * rho * 3.0 * eu")
        A("            if forcing == 1 or forcing == 3:")
        A(f"                eF = {_lin(ev, ['Fz', 'Fy', 'Fx'])}")
        A(f"                se = {wi} * cp * (9.0 * eu * eF - 3.0 * uF) + {_shape(w[i], e[i], lat.dim)!r} * li")
        A(f"                so = {wi} * cm * 3.0 * eF")
        A("            elif forcing == 2:")
        A(f"                ev = {_lin(ev, ['vz', 'vy', 'vx'])}")
        A(f"                se = {wi} * rho * (4.5 * ev * ev - 1.5 * vv) - (base - {wi} * rho)")
        A(f"                so = {wi} * rho * 3.0 * ev - odd")
        A("            else:")
        A("                se = 0.0")
        A("                so = 0.0")
        A(f"            ni = f{i} - base - odd")
        A(f"            no = f{o} - base + odd")
        A("            sym = 0.5 * (ni + no)")
        A("            anti = 0.5 * (ni - no)")
        A(f"            fnew[{i}, k] = f{i} - omega_plus * sym - omega_minus * anti + se + so")
        A(f"            fnew[{o}, k] = f{o} - omega_plus * sym + omega_minus * anti + se - so")
    return "\n".join(L) + "\n"


def _density(lat) -> str:
    """The density pass unrolled: pull, sum in direction order (the generic kernel's
    order, so the sums are equal bit for bit), store ``psi(rho)``."""
    e = lat.velocities
    q = lat.q
    name = lat.name.lower()
    pairs = sorted({(int(a), int(b)) for a, b, _ in e})
    L = []
    A = L.append
    A(f"def _density_{name}_py(f, index, psi, kind, params):")
    A(f'    """{lat.name} pull and density pass (generated; see')
    A('    ``stream_collide.density_kernel`` for the generic version it must equal)."""')
    A("    nz, ny, nx = index.shape")
    A("    for r in numba.prange(nz * ny):")
    A("        z = r // ny")
    A("        y = r - z * ny")
    A("        own = index[z, y]")
    for a, b in pairs:
        A(f"        src_{_row(a, b)} = index[_wrap(z - {a}, nz), _wrap(y - {b}, ny)]")
    A("        for x in range(nx):")
    A("            k = own[x]")
    A("            if k < 0:")
    A("                continue")
    A("            xm = x - 1 if x > 0 else nx - 1")
    A("            xp = x + 1 if x < nx - 1 else 0")
    xs = {-1: "xp", 0: "x", 1: "xm"}
    for i in range(q):
        a, b, c = (int(v) for v in e[i])
        o = int(lat.opposite[i])
        A(f"            ks = src_{_row(a, b)}[{xs[c]}]")
        A(f"            f{i} = np.float64(f[{i}, ks]) if ks >= 0 else np.float64(f[{o}, k])")
    A("            rho = " + " + ".join(f"f{i}" for i in range(q)))
    A("            psi[z, y, x] = _psi(rho, kind, params)")
    return "\n".join(L) + "\n"


def generate() -> str:
    head = ('"""Generated by ``kernel_codegen.py`` — do not edit; rerun\n'
            '``python -m rhizoscale.porescale.kernel_codegen``."""\n\n'
            "import numba\nimport numpy as np\n\n"
            "from ..solvers._numba import threaded_kernel\n"
            "from .stream_collide import EXACT, _psi, _wrap\n\n"
            '__all__ = ["collide_d2q9", "collide_d3q19", "density_d2q9", "density_d3q19"]\n\n\n')
    tail = ("\n\n# threads by lattice size (argument 2, the node grid): small lattices run serially\n"
            "collide_d2q9 = threaded_kernel(_collide_d2q9_py, size_arg=2, **EXACT)\n"
            "collide_d3q19 = threaded_kernel(_collide_d3q19_py, size_arg=2, **EXACT)\n"
            "density_d2q9 = threaded_kernel(_density_d2q9_py, size_arg=1, **EXACT)\n"
            "density_d3q19 = threaded_kernel(_density_d3q19_py, size_arg=1, **EXACT)\n")
    return (head + _kernel(D2Q9) + "\n\n" + _kernel(D3Q19) + "\n\n" + _density(D2Q9) + "\n\n"
            + _density(D3Q19) + tail)


if __name__ == "__main__":
    TARGET.write_text(generate())
    print(f"wrote {TARGET}")
