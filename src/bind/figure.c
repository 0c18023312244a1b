/* draw_figure(path, format, width, height, items): draws a list of lines
 * and texts with cairo on a white width×height canvas and writes it as a
 * PNG (format "png") or an SVG ("svg") file. The layout (axes, ticks,
 * panels) is cnn.savefig's, in Lua (lua/cnn/figure.lua); this draws what
 * it is given:
 *
 *   {"line", points = {x1, y1, x2, y2, ...}, color = {r, g, b}, width = w}
 *   {"text", x = x, y = y, text = s, size = pt, anchor = "left"|"center"|"right"}
 *
 * Coordinates are pixels from the top left; colours in [0, 1]. A text's
 * y is its baseline. */
#include <cairo-svg.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <stdlib.h>
#include <string.h>

#include "bind.h"

#define FNAME "draw_figure"

/* Field 'key' of the table at 'idx', read raw, pushed. */
static int rawfield(lua_State *L, int idx, const char *key)
{
    idx = lua_absindex(L, idx);
    lua_pushstring(L, key);
    return lua_rawget(L, idx);
}

static int number_field(lua_State *L, int idx, const char *key, double fallback,
                        double *out)
{
    int type = rawfield(L, idx, key);
    int ok = 1;
    if (type == LUA_TNIL)
        *out = fallback;
    else if (type == LUA_TNUMBER)
        *out = lua_tonumber(L, -1);
    else
        ok = 0;
    lua_pop(L, 1);
    return ok;
}

/* Strokes item 'idx' ({"line", ...}); returns an error text or NULL. */
static const char *draw_line(lua_State *L, int idx, cairo_t *cr)
{
    idx = lua_absindex(L, idx);
    double width, rgb[3] = {0, 0, 0};
    if (!number_field(L, idx, "width", 1, &width))
        return "a line's width must be a number";
    if (rawfield(L, idx, "color") == LUA_TTABLE) {
        for (int k = 0; k < 3; k++) {
            lua_rawgeti(L, -1, k + 1);
            rgb[k] = lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    if (rawfield(L, idx, "points") != LUA_TTABLE) {
        lua_pop(L, 1);
        return "a line needs points = {x1, y1, x2, y2, ...}";
    }
    int n = cnn_rawlen(L, -1);
    if (n % 2 != 0) {
        lua_pop(L, 1);
        return "a line's points must be x, y pairs";
    }
    for (int i = 1; i <= n; i += 2) {
        lua_rawgeti(L, -1, i);
        lua_rawgeti(L, -2, i + 1);
        int isnum_x, isnum_y;
        double x = lua_tonumberx(L, -2, &isnum_x), y = lua_tonumberx(L, -1, &isnum_y);
        lua_pop(L, 2);
        if (!isnum_x || !isnum_y) {
            lua_pop(L, 1);
            return "a line's points must be numbers";
        }
        if (i == 1)
            cairo_move_to(cr, x, y);
        else
            cairo_line_to(cr, x, y);
    }
    lua_pop(L, 1);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_set_line_width(cr, width);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_stroke(cr);
    return NULL;
}

/* Shows item 'idx' ({"text", ...}); returns an error text or NULL. */
static const char *draw_text(lua_State *L, int idx, cairo_t *cr)
{
    idx = lua_absindex(L, idx);
    double x, y, size;
    if (!number_field(L, idx, "x", 0, &x) || !number_field(L, idx, "y", 0, &y) ||
        !number_field(L, idx, "size", 12, &size))
        return "a text's x, y and size must be numbers";
    if (rawfield(L, idx, "text") != LUA_TSTRING) {
        lua_pop(L, 1);
        return "a text needs text = a string";
    }
    const char *text = lua_tostring(L, -1);
    const char *anchor = "left";
    if (rawfield(L, idx, "anchor") == LUA_TSTRING)
        anchor = lua_tostring(L, -1);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                           CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
    cairo_text_extents_t ext;
    cairo_text_extents(cr, text, &ext);
    if (strcmp(anchor, "center") == 0)
        x -= ext.x_advance / 2;
    else if (strcmp(anchor, "right") == 0)
        x -= ext.x_advance;
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, x, y);
    cairo_show_text(cr, text);
    lua_pop(L, 2);
    return NULL;
}

/* Draws every item of the list at 'items'; returns an error text or NULL. */
static const char *draw_items(lua_State *L, int items, cairo_t *cr)
{
    int n = cnn_rawlen(L, items);
    for (int i = 1; i <= n; i++) {
        if (lua_rawgeti(L, items, i) != LUA_TTABLE) {
            lua_pop(L, 1);
            return "each item must be a table";
        }
        lua_rawgeti(L, -1, 1);
        const char *kind = lua_tostring(L, -1);
        const char *err;
        if (kind && strcmp(kind, "line") == 0)
            err = draw_line(L, -2, cr);
        else if (kind && strcmp(kind, "text") == 0)
            err = draw_text(L, -2, cr);
        else
            err = "an item must be {\"line\", ...} or {\"text\", ...}";
        lua_pop(L, 2);
        if (err)
            return err;
    }
    return NULL;
}

static int core_draw_figure(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *format = luaL_checkstring(L, 2);
    lua_Integer width = luaL_checkinteger(L, 3), height = luaL_checkinteger(L, 4);
    luaL_checktype(L, 5, LUA_TTABLE);
    if (width < 1 || height < 1 || width > 16384 || height > 16384)
        return luaL_error(L, FNAME ": width and height must be in 1..16384, got %d×%d",
                          (int)width, (int)height);
    int png = strcmp(format, "png") == 0;
    if (!png && strcmp(format, "svg") != 0)
        return luaL_error(L, FNAME ": format must be \"png\" or \"svg\", got \"%s\"",
                          format);

    cairo_surface_t *surface =
        png ? cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)width, (int)height)
            : cairo_svg_surface_create(path, (double)width, (double)height);
    cairo_t *cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    const char *err = draw_items(L, 5, cr);
    cairo_status_t status = cairo_status(cr);
    cairo_destroy(cr);
    if (!err && status == CAIRO_STATUS_SUCCESS) {
        if (png)
            status = cairo_surface_write_to_png(surface, path);
        else {
            cairo_surface_finish(surface);
            status = cairo_surface_status(surface);
        }
    }
    cairo_surface_destroy(surface);
    if (err)
        return luaL_error(L, FNAME ": %s", err);
    if (status != CAIRO_STATUS_SUCCESS)
        return luaL_error(L, FNAME ": cannot write %s: %s", path,
                          cairo_status_to_string(status));
    return 0;
}

static const luaL_Reg figure_funcs[] = {
    {"draw_figure", core_draw_figure},
    {NULL, NULL},
};

/* At exit, cairo's font caches and fontconfig's configuration are freed,
 * as both libraries provide for memory checkers: the sanitizer builds
 * check for leaks at exit, and a text drawn once leaves them allocated.
 * No cairo object outlives a draw_figure call, so none is in use then. */
static void release_fonts(void)
{
    cairo_debug_reset_static_data();
    FcFini();
}

void cnn_open_figure(lua_State *L)
{
    static int registered;
    if (!registered && atexit(release_fonts) == 0)
        registered = 1;
    cnn_register(L, figure_funcs);
}
