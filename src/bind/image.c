/* Image files and folders: read_images (ImageFolder's decoding), listdir
 * and save_image (cnn.saveimage). */
#include "bind.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "image.h"

/* The integer field 'name' of the options table at arg, or dflt. */
static lua_Integer int_option(lua_State *L, int arg, const char *name, lua_Integer dflt)
{
    lua_getfield(L, arg, name);
    lua_Integer v = lua_isnil(L, -1) ? dflt : luaL_checkinteger(L, -1);
    lua_pop(L, 1);
    return v;
}

/* read_images(paths, {channels = 0|1|3, width =, height =, resize =
 * "bilinear"|"nearest"}) → W×H×C×N Float32 tensor in [0, 1]. Channels 0
 * and no width take the first image's; without width and height every
 * image must have the first one's size. */
static int image_read_images(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    int n = cnn_rawlen(L, 1);
    luaL_argcheck(L, n > 0, 1, "no image files");
    int64_t C = int_option(L, 2, "channels", 0);
    int64_t W = int_option(L, 2, "width", 0), H = int_option(L, 2, "height", 0);
    lua_getfield(L, 2, "resize");
    static const char *const modes[] = {"nearest", "bilinear", NULL};
    cnn_resize mode = (cnn_resize)luaL_checkoption(L, -1, "bilinear", modes);
    lua_pop(L, 1);
    const bool resize = W > 0;
    cnn_tensor *out = NULL;
    const char *first = NULL;
    for (int k = 1; k <= n; k++) {
        lua_rawgeti(L, 1, k);
        const char *path = luaL_checkstring(L, -1);
        cnn_image img;
        CNN_CHECK_STATUS(L, "read_images", cnn_image_read(path, &img));
        if (out == NULL) {
            first = path;
            if (!resize) {
                W = img.width;
                H = img.height;
            }
            if (C == 0)
                C = img.channels;
            int64_t size[4] = {W, H, C, n};
            out = cnn_push_tensor_uninit(L, CNN_FLOAT32, 4, size);
            lua_insert(L, -2); /* below the path, so the path stays last */
        } else if (!resize && (img.width != W || img.height != H)) {
            int64_t w = img.width, h = img.height;
            cnn_image_free(&img);
            return luaL_error(
                L,
                "read_images: %s is %I×%I, %s is %I×%I; all images must have "
                "one size, or give size = {W, H} to resize them",
                path, (lua_Integer)w, (lua_Integer)h, first, (lua_Integer)W,
                (lua_Integer)H);
        }
        cnn_image_to_tensor(&img, mode, out, k - 1);
        cnn_image_free(&img);
        lua_pop(L, 1);
    }
    return 1;
}

/* listdir(path) → the names in the folder (without . and ..) and, in a
 * second list, whether each is a folder. Unsorted. */
static int image_listdir(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    DIR *dir = opendir(path);
    if (!dir)
        return luaL_error(L, "listdir: cannot open the folder %s: %s", path,
                          strerror(errno));
    lua_newtable(L);
    lua_newtable(L);
    int k = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        lua_pushfstring(L, "%s/%s", path, e->d_name);
        struct stat st;
        bool isdir = stat(lua_tostring(L, -1), &st) == 0 && S_ISDIR(st.st_mode);
        lua_pop(L, 1);
        k++;
        lua_pushstring(L, e->d_name);
        lua_rawseti(L, -3, k);
        lua_pushboolean(L, isdir);
        lua_rawseti(L, -2, k);
    }
    closedir(dir);
    return 2;
}

/* save_image(path, x): x W×H or W×H×C (C 1 or 3) in [0, 1], as a PNG. */
static int image_save_image(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    cnn_tensor *x = cnn_check_tensor(L, 2);
    CNN_CHECK_STATUS(L, "save_image", cnn_image_write_png(path, x));
    return 0;
}

static const luaL_Reg image_funcs[] = {
    {"read_images", image_read_images},
    {"listdir", image_listdir},
    {"save_image", image_save_image},
    {NULL, NULL},
};

void cnn_open_image(lua_State *L) { cnn_register(L, image_funcs); }
