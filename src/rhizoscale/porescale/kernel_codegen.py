"""Writes ``_lattice_kernels.py``: the lattice kernels unrolled for D2Q9 and D3Q19.

The generic kernels of :mod:`.stream_collide` loop over the directions with velocities
read from an array; here every direction is written out with its velocity components as
literals, so ``e_i . u`` is ``u_x + u_y`` and not three multiplications, and the compiler
keeps the populations in registers. The generated file is committed (Numba caches only
functions defined in files); ``tests`` check that it is what this generator writes, and
that it matches the NumPy specification.

Kernels written, for each lattice:

- ``step_<lattice>_<scheme>``: one whole time step in one sweep (density pass fused with
  pull-stream, force and collision), one kernel per forcing scheme (``shift``; ``guo``,
  which also runs Li et al.'s forcing with its ``sigma``; ``edm``) so that no forcing
  branch is left in the node loop. The sweep runs over *planes* (``z`` in 3D, ``y`` in
  2D) in slabs: a slab's thread computes the density and ``psi`` of plane ``p + 1`` and
  then collides plane ``p`` (which needs ``psi`` on planes ``p - 1 .. p + 1``), so the
  populations that the density pass pulled are still in cache when the collision pulls
  them again. The first plane of a slab needs ``psi`` of the plane before it and the last
  the plane after: each slab computes these two halo planes itself (the neighbouring slab
  writes the same values — a function of the read-only ``f`` — so the result does not
  depend on the number of slabs or threads, bit for bit).
- ``density_<lattice>``: the density pass alone (``psi`` on fluid nodes, and ``rho`` on
  the full grid, NaN on solids) — what :meth:`TwoPhaseLBM.density` needs.
- ``moments_<lattice>``: density and physical velocity ``(j + F/2)/rho`` on the full grid
  from ``psi`` (the density pass must have run).

    python -m rhizoscale.porescale.kernel_codegen      # rewrite _lattice_kernels.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .lattice import D2Q9, D3Q19

TARGET = Path(__file__).with_name("_lattice_kernels.py")

#: forcing schemes with their own step kernel, and the kernel codes
#: (:data:`.stream_collide.FORCINGS`) each one runs
SCHEMES = {"shift": (0,), "guo": (1, 3), "edm": (2,)}

_XS = {-1: "xp", 0: "x", 1: "xm"}     # pull from x - e_x
_XN = {-1: "xm", 0: "x", 1: "xp"}     # neighbour x + e_x


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


def _pairs(lat):
    return sorted({(int(a), int(b)) for a, b, _ in lat.velocities})


def _row_heads(lat, ind, psi_rows):
    """Row pointers of one ``(z, y)`` row: the ``index`` rows pulled from and, for the
    force, the ``psi`` rows of the neighbours."""
    L = [f"{ind}own = index[z, y]"]
    for a, b in _pairs(lat):
        L.append(f"{ind}src_{_row(a, b)} = index[_wrap(z - {a}, nz), _wrap(y - {b}, ny)]")
        if psi_rows:
            L.append(f"{ind}psi_{_row(a, b)} = psi[_wrap(z + {a}, nz), _wrap(y + {b}, ny)]")
    return L


def _pull(lat, ind):
    """Pulled populations ``f0 .. f(q-1)`` of node ``k`` at ``x`` (float64), halfway
    bounce-back from solid sources."""
    L = [f"{ind}xm = x - 1 if x > 0 else nx - 1",
         f"{ind}xp = x + 1 if x < nx - 1 else 0"]
    for i in range(lat.q):
        a, b, c = (int(v) for v in lat.velocities[i])
        o = int(lat.opposite[i])
        L.append(f"{ind}ks = src_{_row(a, b)}[{_XS[c]}]")
        L.append(f"{ind}f{i} = np.float64(f[{i}, ks]) if ks >= 0 else np.float64(f[{o}, k])")
    return L


def _rho(lat):
    return "rho = " + " + ".join(f"f{i}" for i in range(lat.q))


def _force(lat, ind):
    """``az, ay, ax = sum_i w_i psi(x + e_i) e_i`` and ``F = -G psi(x) a``."""
    e, w = lat.velocities, lat.weights
    comps = []
    for ax in range(3):
        terms = []
        for i in range(lat.q):
            c = int(e[i, ax])
            if c == 0:
                continue
            a, b, cx = (int(v) for v in e[i])
            terms.append(f"{'+' if c > 0 else '-'} {float(w[i])!r} * psi_{_row(a, b)}[{_XN[cx]}]")
        if terms:
            t = " ".join(terms)
            t = t[2:] if t.startswith("+ ") else "-" + t[2:]
            comps.append(f"({t})")
        else:
            comps.append("0.0")
    return [f"{ind}g = -G * np.float64(psi[z, y, x])",
            f"{ind}az = {comps[0]}", f"{ind}ay = {comps[1]}", f"{ind}ax = {comps[2]}",
            f"{ind}Fz = g * az", f"{ind}Fy = g * ay", f"{ind}Fx = g * ax"]


def _momentum(lat, ind):
    e = lat.velocities
    return [f"{ind}{nm} = " + _lin([int(e[i, a]) for i in range(lat.q)],
                                   [f"f{i}" for i in range(lat.q)])
            for a, nm in enumerate(("jz", "jy", "jx"))]


def _classes(lat):
    """Distinct weights of ``lat``: ``{weight: class number}``."""
    out = {}
    for wi in lat.weights:
        out.setdefault(float(wi), len(out))
    return out


def _constants(lat, scheme, ind):
    """Per-call constants of the collision: ``w cp``, ``3 w cm`` per weight class (Guo)."""
    if scheme != "guo":
        return []
    L = []
    for wi, c in _classes(lat).items():
        L.append(f"{ind}wcp{c} = {wi!r} * cp")
        L.append(f"{ind}wcm{c} = 3.0 * {wi!r} * cm")
    return L


def _collide(lat, scheme, ind):
    """Velocity, equilibrium and TRT relaxation with the forcing ``scheme`` of node ``k``
    (the pulled ``f0 ..``, ``rho``, the momentum and the force are defined).

    Per pair ``(i, o = opp(i))``, with ``A = w_i rho``: the symmetric and antisymmetric
    parts ``fp = (f_i + f_o)/2``, ``fm = (f_i - f_o)/2`` relax to ``A (1 - 1.5 u.u + 4.5
    (e_i.u)^2)`` and ``3 A e_i.u`` with ``w+`` and ``w-``; the forcing's source is split the
    same way (``Sp``, ``Sm``); ``f_i' = f_i + P + M``, ``f_o' = f_o + P - M`` with ``P = Sp
    - w+ (fp - Ep)``, ``M = Sm - w- (fm - Em)``. Algebraically the generic kernel's
    ``f_i - w+ sym - w- anti + s_even + s_odd`` in fewer operations.
    """
    e, w, q = lat.velocities, lat.weights, lat.q
    cls = _classes(lat)
    L = []
    A = L.append
    if scheme == "guo":
        A(f"{ind}li = li2 * (az * az + ay * ay + ax * ax)")
    A(f"{ind}inv = 1.0 / rho")
    for c in "zyx":
        if scheme == "shift":
            A(f"{ind}u{c} = (j{c} + F{c} / omega_plus) * inv")
        elif scheme == "guo":
            A(f"{ind}u{c} = (j{c} + 0.5 * F{c}) * inv")
        else:
            A(f"{ind}u{c} = j{c} * inv")
    A(f"{ind}uu = uz * uz + uy * uy + ux * ux")
    if scheme == "edm":
        for c in "zyx":
            A(f"{ind}v{c} = u{c} + F{c} * inv")
        A(f"{ind}dvv = 1.5 * (uu - (vz * vz + vy * vy + vx * vx))")
    if scheme == "guo":
        A(f"{ind}uF3 = 3.0 * (uz * Fz + uy * Fy + ux * Fx)")
    A(f"{ind}feq_rest = 1.0 - 1.5 * uu")
    for wi, c in cls.items():
        A(f"{ind}a{c} = {wi!r} * rho")
        A(f"{ind}b{c} = 3.0 * a{c}")
    done = set()
    for i in range(q):
        o = int(lat.opposite[i])
        if o in done or i in done:
            continue
        done.update((i, o))
        c = cls[float(w[i])]
        shape = repr(_shape(w[i], e[i], lat.dim))
        if o == i:
            src = {"shift": "", "edm": f" + a{c} * dvv",
                   "guo": f" - wcp{c} * uF3 + {shape} * li"}[scheme]
            A(f"{ind}fnew[{i}, k] = f{i} - omega_plus * (f{i} - a{c} * feq_rest){src}")
            continue
        ev = [int(v) for v in e[i]]
        A(f"{ind}eu = {_lin(ev, ['uz', 'uy', 'ux'])}")
        A(f"{ind}P = -omega_plus * (0.5 * (f{i} + f{o}) - a{c} * (feq_rest + 4.5 * eu * eu))")
        A(f"{ind}M = -omega_minus * (0.5 * (f{i} - f{o}) - b{c} * eu)")
        if scheme == "guo":
            A(f"{ind}eF = {_lin(ev, ['Fz', 'Fy', 'Fx'])}")
            li_term = "" if _shape(w[i], e[i], lat.dim) == 0 else f" + {shape} * li"
            A(f"{ind}P += wcp{c} * (9.0 * eu * eF - uF3){li_term}")
            A(f"{ind}M += wcm{c} * eF")
        elif scheme == "edm":
            A(f"{ind}ev = {_lin(ev, ['vz', 'vy', 'vx'])}")
            A(f"{ind}P += a{c} * (dvv + 4.5 * (ev * ev - eu * eu))")
            A(f"{ind}M += b{c} * (ev - eu)")
        A(f"{ind}fnew[{i}, k] = f{i} + P + M")
        A(f"{ind}fnew[{o}, k] = f{o} + P - M")
    return L


def _node_loop(ind):
    return [f"{ind}for x in range(nx):", f"{ind}    k = own[x]", f"{ind}    if k < 0:",
            f"{ind}        continue"]


def _step(lat, scheme) -> str:
    name = lat.name.lower()
    three = lat.dim == 3
    L = []
    A = L.append
    A(f"def _step_{name}_{scheme}_py(f, fnew, index, psi, kind, params, G, omega_plus, "
      "omega_minus, sigma, slabs):")
    A(f'    """{lat.name} time step with the {scheme!r} forcing: density pass, pull-stream, '
      "Shan–Chen force")
    A("    and collision fused in one sweep over planes (generated; see ``kernel_codegen`` and")
    A('    ``stream_collide.step_reference``, the specification it must equal)."""')
    A("    nz, ny, nx = index.shape")
    A("    cp = 1.0 - 0.5 * omega_plus")
    A("    cm = 1.0 - 0.5 * omega_minus")
    A("    li2 = 2.0 * omega_plus * sigma * G * G")
    L.extend(_constants(lat, scheme, "    "))
    A(f"    planes = {'nz' if three else 'ny'}")
    A("    for c in numba.prange(slabs):")
    A("        p0 = (c * planes) // slabs")
    A("        p1 = ((c + 1) * planes) // slabs")
    A("        for pp in range(p0 - 1, p1 + 1):")
    A("            # density pass of plane pp (the slab's halo planes p0 - 1 and p1 included)")
    if three:
        A("            z = _wrap(pp, nz)")
        A("            for y in range(ny):")
        ind = " " * 16
    else:
        A("            z = 0")
        A("            y = _wrap(pp, ny)")
        ind = " " * 12
    L.extend(_row_heads(lat, ind, psi_rows=False))
    L.extend(_node_loop(ind))
    L.extend(_pull(lat, ind + "    "))
    A(f"{ind}    {_rho(lat)}")
    A(f"{ind}    psi[z, y, x] = _psi(rho, kind, params)")
    A("            if pp <= p0:")
    A("                continue")
    A("            # stream, force and collide plane pp - 1: psi is known on pp - 2 .. pp")
    if three:
        A("            z = pp - 1")
        A("            for y in range(ny):")
    else:
        A("            y = pp - 1")
    L.extend(_row_heads(lat, ind, psi_rows=True))
    L.extend(_node_loop(ind))
    L.extend(_pull(lat, ind + "    "))
    L.extend(_force(lat, ind + "    "))
    A(f"{ind}    {_rho(lat)}")
    L.extend(_momentum(lat, ind + "    "))
    L.extend(_collide(lat, scheme, ind + "    "))
    return "\n".join(L) + "\n"


def _density(lat) -> str:
    """The density pass alone: pull, sum in direction order (the generic kernel's order,
    so the sums are equal bit for bit), store ``psi(rho)`` and ``rho`` (NaN on solid)."""
    name = lat.name.lower()
    L = []
    A = L.append
    A(f"def _density_{name}_py(f, index, psi, kind, params, rho_out):")
    A(f'    """{lat.name} pull and density pass: ``psi`` on fluid nodes, ``rho_out`` on the '
      "full grid")
    A("    (NaN on solids) (generated; see ``stream_collide.density_kernel`` for the generic")
    A('    version it must equal)."""')
    A("    nz, ny, nx = index.shape")
    A("    for r in numba.prange(nz * ny):")
    A("        z = r // ny")
    A("        y = r - z * ny")
    ind = " " * 8
    L.extend(_row_heads(lat, ind, psi_rows=False))
    A(f"{ind}for x in range(nx):")
    A(f"{ind}    k = own[x]")
    A(f"{ind}    if k < 0:")
    A(f"{ind}        rho_out[z, y, x] = np.nan")
    A(f"{ind}        continue")
    L.extend(_pull(lat, ind + "    "))
    A(f"{ind}    {_rho(lat)}")
    A(f"{ind}    rho_out[z, y, x] = rho")
    A(f"{ind}    psi[z, y, x] = _psi(rho, kind, params)")
    return "\n".join(L) + "\n"


def _moments(lat) -> str:
    """Density and physical velocity ``(j + F/2) / rho`` on the full grid."""
    name = lat.name.lower()
    L = []
    A = L.append
    A(f"def _moments_{name}_py(f, index, psi, G, rho_out, u_out):")
    A(f'    """{lat.name} density and velocity ``(j + F/2)/rho`` (array-axis order) on the '
      "full grid;")
    A("    NaN density and zero velocity on solids; ``psi`` must hold the pulled density's")
    A('    pseudopotential (generated; see ``stream_collide.moments_reference``)."""')
    A("    nz, ny, nx = index.shape")
    A("    for r in numba.prange(nz * ny):")
    A("        z = r // ny")
    A("        y = r - z * ny")
    ind = " " * 8
    L.extend(_row_heads(lat, ind, psi_rows=True))
    A(f"{ind}for x in range(nx):")
    A(f"{ind}    k = own[x]")
    A(f"{ind}    if k < 0:")
    A(f"{ind}        rho_out[z, y, x] = np.nan")
    A(f"{ind}        u_out[z, y, x, 0] = 0.0")
    A(f"{ind}        u_out[z, y, x, 1] = 0.0")
    A(f"{ind}        u_out[z, y, x, 2] = 0.0")
    A(f"{ind}        continue")
    L.extend(_pull(lat, ind + "    "))
    L.extend(_force(lat, ind + "    "))
    A(f"{ind}    {_rho(lat)}")
    L.extend(_momentum(lat, ind + "    "))
    A(f"{ind}    rho_out[z, y, x] = rho")
    A(f"{ind}    u_out[z, y, x, 0] = (jz + 0.5 * Fz) / rho")
    A(f"{ind}    u_out[z, y, x, 1] = (jy + 0.5 * Fy) / rho")
    A(f"{ind}    u_out[z, y, x, 2] = (jx + 0.5 * Fx) / rho")
    return "\n".join(L) + "\n"


def _names():
    out = []
    for lat in (D2Q9, D3Q19):
        n = lat.name.lower()
        out += [f"step_{n}_{s}" for s in SCHEMES] + [f"density_{n}", f"moments_{n}"]
    return out


def generate() -> str:
    names = _names()
    head = ('"""Generated by ``kernel_codegen.py`` — do not edit; rerun\n'
            '``python -m rhizoscale.porescale.kernel_codegen``."""\n\n'
            "import numba\nimport numpy as np\n\n"
            "from ..solvers._numba import threaded_kernel\n"
            "from .stream_collide import EXACT, _psi, _wrap\n\n"
            "__all__ = [" + ", ".join(f'"{n}"' for n in names) + "]\n\n\n")
    parts = []
    for lat in (D2Q9, D3Q19):
        parts += [_step(lat, s) for s in SCHEMES] + [_density(lat), _moments(lat)]
    tail = ["\n\n# threads by lattice size (the node grid, argument 2 of a step, 1 otherwise): "
            "small lattices\n# run serially; compiled on first use"]
    for n in names:
        arg = 2 if n.startswith("step") else 1
        tail.append(f"{n} = threaded_kernel(_{n}_py, size_arg={arg}, **EXACT)")
    return head + "\n\n".join(parts) + "\n".join(tail) + "\n"


if __name__ == "__main__":
    TARGET.write_text(generate())
    print(f"wrote {TARGET}")
