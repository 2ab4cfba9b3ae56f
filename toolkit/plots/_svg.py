"""An SVG backend whose text layout and glyph outlines are kept across figures in one process.

Matplotlib's SVG renderer (``svg.fonttype="path"``) measures and lays out every text with
FreeType each time a figure is saved: every figure gets a new renderer with a new
:class:`~matplotlib.textpath.TextToPath`, so the tick labels, dimension names and legend
entries that recur in every report are shaped again in every figure. Text to path works at
one fixed size (``FONT_SCALE`` points at ``DPI``) and scales the result, so the layout of a
string depends only on the font files and the string: :class:`CachedTextToPath` keeps the
metrics, the glyph positions and the glyph outlines per font and string, and the renderer of
this backend writes the same SVG bytes as matplotlib's own (``tests/test_plots.py`` compares).

Use it with ``fig.savefig(buf, format="svg", backend=BACKEND)``.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
from collections import OrderedDict
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib import _text_helpers
from matplotlib.backends.backend_mixed import MixedModeRenderer
from matplotlib.backends.backend_svg import (
    FigureCanvasSVG,
    RendererSVG,
    _generate_css,
    _generate_transform,
    _short_float_fmt,
    _XMLWriter,
)
from matplotlib.colors import rgb2hex
from matplotlib.font_manager import fontManager, get_font
from matplotlib.path import Path
from matplotlib.textpath import TextToPath
from matplotlib.transforms import (
    Affine2D,
    Bbox,
    BboxTransformTo,
    CompositeAffine2D,
    CompositeGenericTransform,
    TransformedBbox,
)

__all__ = ["BACKEND", "CachedTextToPath", "FigureCanvas", "layout_once", "text_to_path"]

BACKEND = "module://toolkit.plots._svg"
_FONT_LISTS = ("font.family", "font.serif", "font.sans-serif", "font.cursive", "font.fantasy", "font.monospace")
MAX_ENTRIES = 50_000  # strings and glyphs kept per thread; the cache starts again when full


class CachedTextToPath(TextToPath):
    """:class:`~matplotlib.textpath.TextToPath` with metrics, layouts and glyph paths kept per font and string.

    The key of a font is the list of font files matplotlib picks for the properties (with its
    fallbacks) and the rc settings that change the FreeType object (kerning, last-resort font),
    so a changed font or family is never served from the cache; mathtext and TeX are not cached.
    """

    def __init__(self) -> None:
        super().__init__()
        self._fonts: dict[int, tuple[Any, tuple]] = {}  # id(FT2Font) -> (the font, its key); the font is held so the id is not reused
        self._metrics: dict[tuple, tuple[float, float, float]] = {}
        self._layouts: dict[tuple, tuple[tuple[str, float, float], ...]] = {}
        self._paths: dict[tuple, Any] = {}
        self._font_keys: dict[tuple, tuple] = {}

    def _font_key(self, prop: Any) -> tuple:
        rc = mpl.rcParams
        # what the font files matplotlib picks depend on: the properties (the tuple FontProperties hashes) and the
        # rc font lists its font cache is keyed by; looking the files up again costs ~4x this key
        props = (tuple(prop.get_family()), prop.get_slant(), prop.get_variant(), prop.get_weight(), prop.get_stretch(),
                 prop.get_size(), prop.get_file(), prop.get_math_fontfamily())
        key = (props, tuple(tuple(rc[name]) for name in _FONT_LISTS), rc["text.kerning_factor"], rc["font.enable_last_resort"])
        hit = self._font_keys.get(key)
        if hit is None:
            if len(self._font_keys) > 4096:
                self._font_keys.clear()
            hit = self._font_keys[key] = (tuple(fontManager._find_fonts_by_props(prop)), key[2], key[3])
        return hit

    def _get_font(self, prop: Any) -> Any:
        key = self._font_key(prop)
        font = get_font(key[0])
        font.set_size(self.FONT_SCALE, self.DPI)
        if len(self._fonts) > 256:
            self._fonts.clear()
        self._fonts[id(font)] = (font, key)
        return font

    def _full(self) -> None:
        if len(self._metrics) + len(self._layouts) + len(self._paths) > MAX_ENTRIES:
            self._metrics.clear()
            self._layouts.clear()
            self._paths.clear()

    def get_text_width_height_descent(self, s: str, prop: Any, ismath: Any) -> tuple[float, float, float]:
        if ismath:
            return super().get_text_width_height_descent(s, prop, ismath)
        key = (self._font_key(prop), s)
        hit = self._metrics.get(key)
        if hit is None:  # TextToPath.get_text_width_height_descent at FONT_SCALE, scaled below as there
            from matplotlib.ft2font import LoadFlags

            font = self._get_font(prop)
            font.set_text(s, 0.0, flags=LoadFlags.NO_HINTING)
            w, h = font.get_width_height()
            hit = (w / 64.0, h / 64.0, font.get_descent() / 64.0)
            self._full()
            self._metrics[key] = hit
        scale = prop.get_size_in_points() / self.FONT_SCALE
        w, h, d = hit
        return w * scale, h * scale, d * scale

    def get_glyphs_with_font(self, font: Any, s: str, glyph_map: Any = None, return_new_glyphs_only: bool = False, *,
                             features: Any = None, language: Any = None) -> tuple[list, Any, list]:
        entry = self._fonts.get(id(font))
        try:
            key = None if entry is None or entry[0] is not font else (entry[1], s, features, language)
            hash(key)
        except TypeError:  # unhashable features or language: as matplotlib does
            key = None
        if key is None:
            return super().get_glyphs_with_font(font, s, glyph_map, return_new_glyphs_only, features=features, language=language)
        items = self._layouts.get(key)
        if items is None:
            found = []
            for item in _text_helpers.layout(s, font, features=features, language=language):
                glyph_repr = self._get_glyph_repr(item.ft_object, item.glyph_index)
                found.append((glyph_repr, item.x, item.y))
                if (key[0], glyph_repr) not in self._paths:
                    self._paths[(key[0], glyph_repr)] = item.ft_object.get_path()
            self._full()
            items = self._layouts[key] = tuple(found)
        if glyph_map is None:
            glyph_map = OrderedDict()
        glyph_map_new = OrderedDict() if return_new_glyphs_only else glyph_map
        for glyph_repr, _x, _y in items:
            if glyph_repr not in glyph_map:
                path = self._paths.get((key[0], glyph_repr))
                if path is None:  # the cache started again between the layout and now
                    self._layouts.pop(key, None)
                    return self.get_glyphs_with_font(font, s, glyph_map, return_new_glyphs_only, features=features, language=language)
                glyph_map_new[glyph_repr] = path
        return [(r, x, y, 1.0) for r, x, y in items], glyph_map_new, []


class _Once:
    """A bound method whose result is computed once per arguments (compared by identity) and then served again."""

    def __init__(self, method: Any) -> None:
        self.method = method
        self.results: dict[tuple, tuple[tuple, Any]] = {}

    def __call__(self, *args: Any) -> Any:
        key = tuple(tuple(map(id, a)) if isinstance(a, list) else id(a) for a in args)
        hit = self.results.get(key)
        if hit is None:
            hit = self.results[key] = (args, self.method(*args))  # the arguments are kept: their ids stay theirs
        return hit[1]


def _legend_boxes(fig: Any) -> list:
    """The offset boxes of the figure's legends (the packers and areas their layout is made of)."""
    from matplotlib.legend import Legend
    from matplotlib.offsetbox import OffsetBox

    boxes: list = []
    todo = [a._legend_box for ax in fig.axes for a in ax.get_children() if isinstance(a, Legend)]
    todo += [leg._legend_box for leg in fig.legends]
    while todo:
        box = todo.pop()
        boxes.append(box)
        todo.extend(c for c in box.get_children() if isinstance(c, OffsetBox))
    return boxes


_ONCE = {"axis": ("_update_ticks", "_get_ticklabel_bboxes"), "box": ("get_bbox", "_get_bbox_and_child_offsets")}


@contextlib.contextmanager
def layout_once(fig: Any) -> Any:
    """While the figure is drawn and measured (nothing in it changes in between), every axis updates its ticks
    and measures their labels once, and every legend box measures itself and places its children once.

    Matplotlib does each again and again with the same result: the ticks for the axis label's place (in the
    draw and in the measure) and for the tight box (:func:`toolkit.reports.render.svg_tight`); each packer of a
    legend measures all boxes under it, and so does each of those when it is drawn, and again for the tight
    box. What they compute depends on the ticks, texts, fonts and the renderer, which stay the same, not on
    where a box is placed (a box's size and its children's offsets within it).
    """
    from matplotlib.offsetbox import OffsetBox

    patched: list[tuple[Any, str]] = []
    for obj, names in [*((axis, _ONCE["axis"]) for ax in fig.axes for axis in ax._axis_map.values()),
                       *((box, _ONCE["box"]) for box in _legend_boxes(fig))]:
        for name in names:
            method = getattr(type(obj), name)
            if name == "_get_bbox_and_child_offsets" and method is OffsetBox._get_bbox_and_child_offsets:
                continue  # a leaf box (text, drawing area): only its own get_bbox
            setattr(obj, name, _Once(method.__get__(obj)))
            patched.append((obj, name))
    try:
        yield
    finally:
        for obj, name in patched:
            vars(obj).pop(name, None)


_local = threading.local()


def _forget_fonts() -> None:
    """After fork: matplotlib drops its FreeType objects (they cannot cross a fork); so does the cache's font map."""
    t2p = getattr(_local, "t2p", None)
    if t2p is not None:
        t2p._fonts.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_fonts)


def text_to_path() -> CachedTextToPath:
    """This thread's cached text to path (FreeType objects are not shared between threads)."""
    t2p = getattr(_local, "t2p", None)
    if t2p is None:
        t2p = _local.t2p = CachedTextToPath()
    return t2p


_STR_OF: dict[tuple, str] = {}  # (numpy print options, structure and matrices of an affine transform) -> its str()


# the transforms whose str() prints only the attributes named here (matplotlib.transforms._make_str_method), and the
# leaves whose str() prints one array (Affine2D its matrix, Bbox its points)
_NODES = {CompositeGenericTransform: ("_a", "_b"), CompositeAffine2D: ("_a", "_b"), BboxTransformTo: ("_boxout",),
          TransformedBbox: ("_bbox", "_transform")}
_LEAVES = {Affine2D: "_mtx", Bbox: "_points"}


def _structure(t: Any) -> tuple | None:
    """What ``str(t)`` depends on, for the transforms a clip path of an Axes has (else None: not kept)."""
    kind = type(t)
    leaf = _LEAVES.get(kind)
    if leaf is not None:
        return (kind, getattr(t, leaf).tobytes())
    attrs = _NODES.get(kind)
    if attrs is None:
        return None
    parts = [_structure(getattr(t, a)) for a in attrs]
    return None if None in parts else (kind, *parts)


def transform_str(t: Any) -> str:
    """``str(t)``, kept per transform structure, matrices and numpy print options (the SVG writer keys a clip
    path by this string; a polar Axes clips every artist to its circle, and printing the matrices with numpy
    costs more than drawing most artists)."""
    shape = _structure(t)
    if shape is None:
        return str(t)
    key = (repr(np.get_printoptions()), shape)
    hit = _STR_OF.get(key)
    if hit is None:
        if len(_STR_OF) > 4096:
            _STR_OF.clear()
        hit = _STR_OF[key] = str(t)
    return hit


_RUNS: dict[tuple, str] = {}  # (nesting depth, a text's glyphs and their positions) -> the SVG of its glyph uses


def glyph_run(depth: int, glyph_info: Any) -> str:
    """The ``<use>`` elements matplotlib's SVG writer writes for a text's glyphs (``glyph_info`` as
    :meth:`~matplotlib.textpath.TextToPath.get_glyphs_with_font` returns it) inside ``depth`` open
    elements, written once by that writer and then kept: they depend only on the glyph names and their
    positions within the text (the text's place is the transform of the group around them)."""
    key = (depth, tuple(glyph_info))
    hit = _RUNS.get(key)
    if hit is None:
        buf = io.StringIO()
        writer = _XMLWriter(buf)
        vars(writer)["_XMLWriter__tags"].extend(["g"] * depth)
        for glyph_repr, xposition, yposition, scale in glyph_info:
            writer.element("use", transform=_generate_transform([("translate", (xposition, yposition)), ("scale", (scale,))]),
                           attrib={"xlink:href": f"#{glyph_repr}"})
        if len(_RUNS) > MAX_ENTRIES:
            _RUNS.clear()
        hit = _RUNS[key] = buf.getvalue()
    return hit


class _Renderer(RendererSVG):
    def __init__(self, figure: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._figure = figure
        self._text2path = text_to_path()

    def draw_markers(self, gc: Any, marker_path: Any, marker_trans: Any, path: Any, trans: Any, rgbFace: Any = None) -> None:
        """``RendererSVG.draw_markers`` (the same bytes), with the markers' style worked out once per call: matplotlib
        works it out again for every marker it places (every tick mark is a call of its own, a line's markers one call)."""
        if not len(path.vertices):
            return
        writer = self.writer
        path_data = self._convert_path(marker_path, marker_trans + Affine2D().scale(1.0, -1.0), simplify=False)
        style_dict = self._get_style_dict(gc, rgbFace)
        style = _generate_css(style_dict)  # = self._get_style(gc, rgbFace)
        dictkey = (path_data, style)
        oid = self._markers.get(dictkey)
        if oid is None:
            oid = self._make_id("m", dictkey)
            writer.start("defs")
            writer.element("path", id=oid, d=path_data, style=_generate_css({k: v for k, v in style_dict.items() if k.startswith("stroke")}))
            writer.end("defs")
            self._markers[dictkey] = oid
        writer.start("g", **self._get_clip_attrs(gc))
        url = gc.get_url()
        if url is not None:
            writer.start("a", {"xlink:href": url, "target": "_blank"})
        attrib = {"xlink:href": f"#{oid}"}
        clip = (0, 0, self.width * 72, self.height * 72)
        for vertices, _code in path.iter_segments(self._make_flip_transform(trans), clip=clip, simplify=False):
            if len(vertices):
                x, y = vertices[-2:]
                attrib["x"] = _short_float_fmt(x)
                attrib["y"] = _short_float_fmt(y)
                attrib["style"] = style
                writer.element("use", attrib=attrib)
        if url is not None:
            writer.end("a")
        writer.end("g")

    def _draw_text_as_path(self, gc: Any, x: float, y: float, s: str, prop: Any, angle: float, ismath: Any, mtext: Any = None) -> None:
        """``RendererSVG._draw_text_as_path`` (the same bytes), with the glyph uses of a text written once per
        process (:func:`glyph_run`); mathtext and TeX as there."""
        if ismath:
            return super()._draw_text_as_path(gc, x, y, s, prop, angle, ismath, mtext)
        writer = self.writer
        writer.comment(s)
        text2path = self._text2path
        color = rgb2hex(gc.get_rgb())
        fontsize = prop.get_size_in_points()
        features = language = None
        if mtext is not None:
            features, language = mtext.get_fontfeatures(), mtext.get_language()
        style = {}
        if color != "#000000":
            style["fill"] = color
        alpha = gc.get_alpha() if gc.get_forced_alpha() else gc.get_rgb()[3]
        if alpha != 1:
            style["opacity"] = _short_float_fmt(alpha)
        font_scale = fontsize / text2path.FONT_SCALE
        writer.start("g", style=_generate_css(style),
                     transform=_generate_transform([("translate", (x, y)), ("rotate", (-angle,)), ("scale", (font_scale, -font_scale))]))
        font = text2path._get_font(prop)
        glyph_info, glyph_map_new, rects = text2path.get_glyphs_with_font(
            font, s, features=features, language=language, glyph_map=self._glyph_map, return_new_glyphs_only=True)
        self._update_glyph_map_defs(glyph_map_new)
        if glyph_info:
            mangled = vars(writer)
            writer._XMLWriter__flush()  # closes the open tag as the first use's start would
            mangled["_XMLWriter__write"](glyph_run(len(mangled["_XMLWriter__tags"]), glyph_info))
        for verts, codes in rects:
            writer.element("path", d=self._convert_path(Path(verts, codes), simplify=False))
        writer.end("g")

    def _get_clip_attrs(self, gc: Any) -> dict[str, str]:
        """``RendererSVG._get_clip_attrs`` with the clip path's transform printed once per value (:func:`transform_str`)."""
        clippath, clippath_trans = gc.get_clip_path()
        if clippath is None:
            return super()._get_clip_attrs(gc)
        clippath_trans = self._make_flip_transform(clippath_trans)
        dictkey = (self._get_clippath_id(clippath), transform_str(clippath_trans))
        clip = self._clipd.get(dictkey)
        if clip is None:
            oid = self._make_id("p", dictkey)
            self._clipd[dictkey] = ((clippath, clippath_trans), oid)
        else:
            _, oid = clip
        return {"clip-path": f"url(#{oid})"}

    def _get_font_height_metrics(self, prop: Any) -> tuple[Any, Any, Any]:
        """The ascent, descent and line gap ``Text._get_layout`` reads from the font's tables, kept per font and size.

        The same arithmetic as there (``OS/2`` table, else ``hhea``), at the figure's dpi during the draw.
        """
        t2p = self._text2path
        key = ("height", t2p._font_key(prop), prop.get_size_in_points(), self._figure.dpi)
        hit = t2p._metrics.get(key)
        if hit is None:
            font = get_font(key[1][0])
            hit = (None, None, None)
            for table_name, linegap_key, ascent_key, descent_key in (("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                                                                     ("hhea", "lineGap", "ascent", "descent")):
                table = font.get_sfnt_table(table_name)
                if table is None:
                    continue
                fontsize = prop.get_size_in_points()
                units_per_em = font.get_sfnt_table("head")["unitsPerEm"]
                scale = 1 / units_per_em * fontsize * self._figure.dpi / 72
                hit = (table[ascent_key] * scale, -table[descent_key] * scale, table[linegap_key] * scale)
                break
            t2p._full()
            t2p._metrics[key] = hit
        return hit


class FigureCanvas(FigureCanvasSVG):
    """The SVG canvas of matplotlib with :class:`_Renderer` (the text of :func:`text_to_path`)."""

    def print_svg(self, filename: Any, *, bbox_inches_restore: Any = None, metadata: Any = None, **_print_kwargs: Any) -> None:
        import codecs

        from matplotlib import cbook

        # FigureCanvasSVG.print_svg with this module's renderer (the other keywords of savefig, e.g. facecolor, are applied by savefig; matplotlib drops them for its own canvases)
        with cbook.open_file_cm(filename, "w", encoding="utf-8") as fh:
            if not cbook.file_requires_unicode(fh):
                fh = codecs.getwriter("utf-8")(fh)
            dpi = self.figure.dpi
            self.figure.dpi = 72
            width, height = self.figure.get_size_inches()
            w, h = width * 72, height * 72
            renderer = MixedModeRenderer(self.figure, width, height, dpi, _Renderer(self.figure, w, h, fh, image_dpi=dpi, metadata=metadata),
                                         bbox_inches_restore=bbox_inches_restore)
            self.figure.draw(renderer)
            renderer.finalize()

