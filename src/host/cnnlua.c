/* cnnlua: the stand-alone program.
 *
 * It follows the shape of Lua's own lua.c, so that anything that drives
 * `lua` (shebang lines, `busted --lua=...`, `-i < file`) drives cnnlua:
 * the same options, the same `arg` table, LUA_INIT, and everything run
 * under one protected call. On top of that it builds in the C module
 * `cnn.core`, finds the Lua half of cnn next to the executable, and
 * predefines the global `cnn` for -e strings and the prompt. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <oneapi/dnnl/dnnl.h>

#include "closer.h"
#include "distributed.h"
#include "host.h"
#include "repl.h"
#include "signals.h"

#ifndef CNNLUA_VERSION
#define CNNLUA_VERSION "0.1.0"
#endif

/* Defined by the bindings (src/bind); the same function is the entry point
 * of the loadable cnn/core.so. */
extern int luaopen_cnn_core(lua_State *L);

/* Options seen by scan_options, before any Lua code runs. */
enum {
    OPT_INTERACTIVE = 1, /* -i */
    OPT_VERSION = 2,     /* -v (and -i) */
    OPT_EXEC = 4,        /* at least one -e */
    OPT_NOENV = 8,       /* -E */
    OPT_HELP = 16        /* --help */
};

struct options {
    int flags;
    int script; /* argv index of the script name, 0 when there is none */
    int bad;    /* argv index of an invalid option, 0 when all are valid */
};

/* The state that a SIGINT interrupts; a signal handler has no other way
 * to reach it. */
static lua_State *interrupted_state = NULL;

/* Whether a second Ctrl-C during one chunk ends the program (see
 * host_set_repeat_interrupt_ends). */
static volatile sig_atomic_t repeat_interrupt_ends = 1;

/* {==================================================================
 * Messages
 * =================================================================== */

/* In a job of several processes a message says whose it is. */
static void print_message(const char *msg)
{
    if (cnn_distributed_size() > 1)
        fprintf(stderr, "%s: rank %d: %s\n", CNNLUA_PROGNAME, cnn_distributed_rank(),
                msg);
    else
        fprintf(stderr, "%s: %s\n", CNNLUA_PROGNAME, msg);
    fflush(stderr);
}

/* The error object at 'idx' as text, for errors that never went through
 * the message handler (load errors, a failed require). */
static const char *error_text(lua_State *L, int idx)
{
    const char *msg = lua_tostring(L, idx);
    return msg != NULL ? msg : "(error object is not a string)";
}

int host_report(lua_State *L, int status)
{
    if (status != LUA_OK) {
        print_message(error_text(L, -1));
        lua_pop(L, 1);
    }
    return status;
}

static void print_version(void)
{
    const dnnl_version_t *v = dnnl_version();
    printf("%s %s (%s, oneDNN %d.%d.%d)\n", CNNLUA_PROGNAME, CNNLUA_VERSION, LUA_RELEASE,
           v->major, v->minor, v->patch);
    fflush(stdout);
}

static void print_help(FILE *out)
{
    fprintf(out,
            "usage: %s [options] [script [args]]\n"
            "Available options are:\n"
            "  -e stat   execute string 'stat'\n"
            "  -i        enter interactive mode after executing 'script'\n"
            "  -l mod    require library 'mod' into global 'mod'\n"
            "  -l g=mod  require library 'mod' into global 'g'\n"
            "  -v        show version information\n"
            "  -E        ignore environment variables\n"
            "  -W        turn warnings on\n"
            "  --        stop handling options\n"
            "  -         stop handling options and execute stdin\n"
            "  --help    show this help and exit\n"
            "With no script and a terminal on stdin, %s starts the prompt.\n"
            "-e strings and the prompt see the global 'cnn' = require \"cnn\".\n"
            "help(x) prints the documentation of x, help() a map of cnn; at the\n"
            "prompt ?x is help(x) and Tab completes names, fields and methods.\n"
            "Prompt commands: .time on / .time off print each line's wall time\n"
            "and tensor allocations after it; .help lists them.\n"
            "An interrupt (Ctrl-C) inside the library reports the line of your\n"
            "code it came through; CNNLUA_TRACEBACK=1 shows the full traceback.\n",
            CNNLUA_PROGNAME, CNNLUA_PROGNAME);
    fflush(out);
}

static void print_usage(const char *badoption)
{
    if (badoption[1] == 'e' || badoption[1] == 'l')
        fprintf(stderr, "%s: '%s' needs argument\n", CNNLUA_PROGNAME, badoption);
    else
        fprintf(stderr, "%s: unrecognized option '%s'\n", CNNLUA_PROGNAME, badoption);
    print_help(stderr);
}

/* }================================================================== */

/* {==================================================================
 * Running chunks
 * =================================================================== */

static void on_interrupt(int sig);

/* Raising the error from a hook, not from the signal handler, leaves the
 * interpreter in a consistent state. While the library puts state back
 * (a closer's cleanup, closer.h) the hook stays and raises at the first
 * instruction after it. Once the error is raised, the handler
 * that stepped aside comes back: a script that catches the error is
 * interrupted again by the next Ctrl-C, as Python's KeyboardInterrupt; only
 * a second Ctrl-C before the first was delivered (the program stuck in a
 * long C call) ends it. */
static void stop_on_interrupt(lua_State *L, lua_Debug *ar)
{
    if (cnn_closer_holds_interrupt(L, ar))
        return;
    lua_sethook(L, NULL, 0, 0);
    if (repeat_interrupt_ends)
        signals_catch(SIGINT, on_interrupt, NULL);
    luaL_error(L, "interrupted!");
}

/* lua_sethook is the one Lua call that is safe in a signal handler; the
 * hook raises the error once the interpreter is at a safe point, which
 * after a long C call is as soon as it returns. In a script the handler
 * steps aside until then, so that a second Ctrl-C still kills a program
 * stuck in C code, as in lua.c; at the prompt it stays, and a second Ctrl-C
 * only interrupts again: the session is worth more than the way out. */
static void on_interrupt(int sig)
{
    int mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
    int saved_errno = errno;
    (void)sig;
    if (repeat_interrupt_ends)
        signals_catch(SIGINT, SIG_DFL, NULL);
    lua_sethook(interrupted_state, stop_on_interrupt, mask, 1);
    errno = saved_errno;
}

void host_set_repeat_interrupt_ends(int ends) { repeat_interrupt_ends = ends != 0; }

/* A Ctrl-C that lands just as a chunk returns must not interrupt the next
 * one; a hook the user set with debug.sethook stays. */
static void clear_interrupt_hook(lua_State *L)
{
    if (lua_gethook(L) == stop_on_interrupt)
        lua_sethook(L, NULL, 0, 0);
}

/* Whether the error message 'msg' is the host's interrupt. */
static int is_interrupt(const char *msg)
{
    static const char tail[] = "interrupted!";
    size_t len = strlen(msg);
    return len >= sizeof tail - 1 && strcmp(msg + len - (sizeof tail - 1), tail) == 0;
}

/* Whether CNNLUA_TRACEBACK asks for the full traceback of every error. */
static int full_traceback_wanted(void)
{
    const char *v = getenv("CNNLUA_TRACEBACK");
    return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

/* Pushes the source directory of the loaded library, "@/.../lua/cnn/",
 * from the source of cnn.errors' raise; returns 0, pushing nothing, when
 * the library is not loaded. */
static int push_library_prefix(lua_State *L)
{
    lua_Debug ar;
    const char *slash;
    int top = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "cnn.errors") != LUA_TTABLE ||
        lua_getfield(L, -1, "raise") != LUA_TFUNCTION) {
        lua_settop(L, top);
        return 0;
    }
    lua_getinfo(L, ">S", &ar); /* pops raise */
    lua_settop(L, top);
    slash = strrchr(ar.source, '/');
    if (ar.source[0] != '@' || slash == NULL)
        return 0;
    lua_pushlstring(L, ar.source, (size_t)(slash - ar.source + 1));
    return 1;
}

/* Whether the frame's source starts with the library's prefix at 'prefix'. */
static int in_library(lua_State *L, int prefix, const lua_Debug *ar)
{
    size_t len;
    const char *p = lua_tolstring(L, prefix, &len);
    return strncmp(ar->source, p, len) == 0;
}

/* An interrupt that lands while the library runs (lua/cnn, or its C, or
 * the user's function it called back, such as a loss inside cnn.train) is
 * shown as the innermost line of the user's code on the stack,
 * "interrupted at train.lua:12 (your script)", rather than as a traceback
 * into the library's internals. Pushes that message and returns 1;
 * returns 0, pushing nothing, when no library frame is on the stack (the
 * user's own loop was interrupted) or no user frame is. */
static int push_interrupt_at_user_line(lua_State *L)
{
    lua_Debug ar;
    int prefix, level, user = 0, library = 0;
    if (!push_library_prefix(L))
        return 0;
    prefix = lua_gettop(L);
    for (level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "S", &ar);
        if (ar.what[0] == 'C')
            continue;
        if (in_library(L, prefix, &ar))
            library = 1;
        else if (user == 0)
            user = level;
    }
    lua_pop(L, 1);
    if (user == 0 || !library)
        return 0;
    lua_getstack(L, user, &ar);
    lua_getinfo(L, "Sl", &ar);
    lua_pushfstring(L, "interrupted at %s:%d (%s)", ar.short_src, ar.currentline,
                    ar.source[0] == '@' ? "your script" : "your line");
    return 1;
}

/* Turns an error into its message plus a traceback; an error object with
 * __tostring (a tensor, say) shows through it. An interrupt inside the
 * library shows only the user's line (see push_interrupt_at_user_line),
 * unless CNNLUA_TRACEBACK is set. */
static int message_handler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    if (is_interrupt(msg) && !full_traceback_wanted() && push_interrupt_at_user_line(L))
        return 1;
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int host_docall(lua_State *L, int narg, int nres)
{
    struct sigaction previous;
    int base = lua_gettop(L) - narg;
    int status;
    lua_pushcfunction(L, message_handler);
    lua_insert(L, base);
    interrupted_state = L;
    signals_catch(SIGINT, on_interrupt, &previous);
    status = lua_pcall(L, narg, nres, base);
    sigaction(SIGINT, &previous, NULL);
    clear_interrupt_hook(L);
    lua_remove(L, base);
    return status;
}

static int run_loaded(lua_State *L, int status)
{
    if (status == LUA_OK)
        status = host_docall(L, 0, 0);
    return host_report(L, status);
}

static int run_file(lua_State *L, const char *name)
{
    return run_loaded(L, luaL_loadfile(L, name));
}

static int run_string(lua_State *L, const char *s, const char *chunkname)
{
    return run_loaded(L, luaL_loadbuffer(L, s, strlen(s), chunkname));
}

/* '-l mod' binds require("mod") to the global 'mod', cut at a '-' as in
 * lua.c (so 'mod-1.2' binds 'mod'); '-l g=mod' binds it to 'g'. */
static int require_library(lua_State *L, const char *spec)
{
    const char *eq = strchr(spec, '=');
    const char *modname = eq != NULL ? eq + 1 : spec;
    size_t namelen = eq != NULL ? (size_t)(eq - spec) : strcspn(spec, "-");
    int status;
    lua_pushlstring(L, spec, namelen);
    lua_getglobal(L, "require");
    lua_pushstring(L, modname);
    status = host_docall(L, 1, 1);
    if (status == LUA_OK)
        lua_setglobal(L, lua_tostring(L, -2));
    else
        host_report(L, status);
    lua_pop(L, 1);
    return status;
}

/* The arguments after the script name, pushed for the script's '...'. */
static int push_script_args(lua_State *L)
{
    int i, n;
    if (lua_getglobal(L, "arg") != LUA_TTABLE)
        luaL_error(L, "'arg' is not a table");
    n = (int)luaL_len(L, -1);
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (i = 1; i <= n; i++)
        lua_rawgeti(L, -i, i);
    lua_remove(L, -i);
    return n;
}

/* A script named '-' is stdin, unless '--' came just before it. */
static int run_script(lua_State *L, char **argv, int script)
{
    const char *name = argv[script];
    int status;
    if (strcmp(name, "-") == 0 && strcmp(argv[script - 1], "--") != 0)
        name = NULL;
    status = luaL_loadfile(L, name);
    if (status == LUA_OK)
        status = host_docall(L, push_script_args(L), 0);
    return host_report(L, status);
}

/* LUA_INIT_5_4, else LUA_INIT: '@file' runs a file, anything else is Lua
 * code. */
static int run_lua_init(lua_State *L)
{
    const char *name = "=LUA_INIT" LUA_VERSUFFIX;
    const char *init = getenv(name + 1);
    if (init == NULL) {
        name = "=LUA_INIT";
        init = getenv(name + 1);
    }
    if (init == NULL)
        return LUA_OK;
    if (init[0] == '@')
        return run_file(L, init + 1);
    return run_string(L, init, name);
}

/* }================================================================== */

/* {==================================================================
 * Setting up the state
 * =================================================================== */

/* Scans argv without running anything, so that -E and -v can act before
 * the libraries open. Stops at the script name, '-' or '--'. */
static void scan_options(char **argv, struct options *opt)
{
    int i;
    opt->flags = opt->script = opt->bad = 0;
    for (i = 1; argv[i] != NULL; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') {
            opt->script = i;
            return;
        }
        if (strcmp(a, "--help") == 0) {
            opt->flags |= OPT_HELP;
            return;
        }
        switch (a[1]) {
        case '-':
            if (a[2] != '\0')
                break;
            opt->script = argv[i + 1] != NULL ? i + 1 : 0;
            return;
        case 'E':
        case 'W':
            if (a[2] != '\0')
                break;
            if (a[1] == 'E')
                opt->flags |= OPT_NOENV;
            continue;
        case 'i':
        case 'v':
            if (a[2] != '\0')
                break;
            opt->flags |= OPT_VERSION | (a[1] == 'i' ? OPT_INTERACTIVE : 0);
            continue;
        case 'e':
        case 'l':
            if (a[1] == 'e')
                opt->flags |= OPT_EXEC;
            if (a[2] == '\0' && (argv[i + 1] == NULL || argv[i + 1][0] == '-'))
                break;
            if (a[2] == '\0')
                i++;
            continue;
        }
        opt->bad = i;
        return;
    }
}

/* arg[0] is the script, arg[1..n] its arguments, and the interpreter and
 * its options go to negative indices; without a script, arg[0] is the
 * interpreter. */
static void create_arg_table(lua_State *L, char **argv, int argc, int script)
{
    int i;
    lua_createtable(L, argc - script - 1 > 0 ? argc - script - 1 : 0, script + 1);
    for (i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

/* The linit.c way: `require "cnn.core"` finds the built-in module without
 * looking for a file. */
static void preload_cnn_core(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_cnn_core);
    lua_setfield(L, -2, "cnn.core");
    lua_pop(L, 1);
}

/* The prefix holding the Lua modules is the parent of the directory of the
 * real executable: the source tree for build/cnnlua, the install prefix for
 * <prefix>/bin/cnnlua. /proc/self/exe has every symlink resolved, so
 * cutting two path components is the same as appending "/..". */
static int find_prefix(char *path, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", path, size - 1);
    char *slash;
    int cut;
    if (n <= 0)
        return 0;
    path[n] = '\0';
    for (cut = 0; cut < 2; cut++) {
        slash = strrchr(path, '/');
        if (slash == NULL)
            return 0;
        *slash = '\0';
    }
    return 1;
}

/* Prepended, so the cnn next to this executable wins over another one on
 * LUA_PATH, which otherwise keeps its usual meaning. Last comes the source
 * tree this cnnlua was built from, for a build directory outside it. */
static void prepend_lua_path(lua_State *L)
{
    char prefix[PATH_MAX];
    const char *share = "share/lua/" LUA_VERSION_MAJOR "." LUA_VERSION_MINOR;
    if (!find_prefix(prefix, sizeof prefix))
        return;
    lua_getglobal(L, LUA_LOADLIBNAME);
    lua_pushfstring(L, "%s/lua/?.lua;%s/lua/?/init.lua;%s/%s/?.lua;%s/%s/?/init.lua;",
                    prefix, prefix, prefix, share, prefix, share);
#ifdef CNNLUA_SOURCE_DIR
    if (strcmp(prefix, CNNLUA_SOURCE_DIR) != 0)
        lua_pushliteral(L, CNNLUA_SOURCE_DIR "/lua/?.lua;" CNNLUA_SOURCE_DIR
                                             "/lua/?/init.lua;");
    else
        lua_pushliteral(L, "");
#else
    lua_pushliteral(L, "");
#endif
    lua_getfield(L, -3, "path");
    lua_concat(L, 3);
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);
}

/* Scripts must require cnn themselves; -e strings and the prompt get it
 * for free. The host stays usable without the Lua library, so a failure is
 * only a warning. */
static void define_cnn_global(lua_State *L)
{
    int type = lua_getglobal(L, "cnn");
    lua_pop(L, 1);
    if (type != LUA_TNIL)
        return;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "cnn");
    if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
        lua_setglobal(L, "cnn");
        return;
    }
    fprintf(stderr, "%s: warning: global 'cnn' is not defined: %s\n", CNNLUA_PROGNAME,
            error_text(L, -1));
    fflush(stderr);
    lua_pop(L, 1);
}

/* help(x), in scripts and at the prompt alike, is cnn.help's; cnn is
 * loaded when help is first called, so a script that never asks for help
 * pays nothing. A help that LUA_INIT defined stays. */
static void define_help_global(lua_State *L)
{
    static const char code[] =
        "help = function(...) return require('cnn.help').help(...) end";
    int type = lua_getglobal(L, "help");
    lua_pop(L, 1);
    if (type != LUA_TNIL)
        return;
    if (luaL_dostring(L, code) != LUA_OK)
        lua_pop(L, 1);
}

/* Runs -e, -l and -W in command-line order, up to the script name. */
static int run_options(lua_State *L, char **argv, int end)
{
    int i;
    for (i = 1; i < end; i++) {
        int option = argv[i][1];
        const char *value = argv[i] + 2;
        int status = LUA_OK;
        if (option == 'W') {
            lua_warning(L, "@on", 0);
            continue;
        }
        if (option != 'e' && option != 'l')
            continue;
        if (*value == '\0')
            value = argv[++i];
        if (option == 'e')
            status = run_string(L, value, "=(command line)");
        else
            status = require_library(L, value);
        if (status != LUA_OK)
            return 0;
    }
    return 1;
}

/* Without a script or -e, a terminal gets the prompt and anything else is
 * run as a script read from stdin, as lua does. */
static int starts_prompt(const struct options *opt)
{
    if (opt->flags & OPT_INTERACTIVE)
        return 1;
    return opt->script == 0 && !(opt->flags & (OPT_EXEC | OPT_VERSION)) &&
           isatty(STDIN_FILENO);
}

/* }================================================================== */

/* Everything after the state exists runs here, under lua_pcall, so even
 * a memory error while handling arguments is reported, not fatal. */
static int pmain(lua_State *L)
{
    int argc = (int)lua_tointeger(L, 1);
    char **argv = (char **)lua_touserdata(L, 2);
    struct options opt;
    int prompt;
    luaL_checkversion(L);
    scan_options(argv, &opt);
    if (opt.bad) {
        print_usage(argv[opt.bad]);
        return 0;
    }
    if (opt.flags & OPT_HELP) {
        print_help(stdout);
        lua_pushboolean(L, 1);
        return 1;
    }
    prompt = starts_prompt(&opt);
    if ((opt.flags & OPT_VERSION) || prompt)
        print_version();
    if (opt.flags & OPT_NOENV) {
        /* read by the package library when it builds its search paths */
        lua_pushboolean(L, 1);
        lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
    }
    luaL_openlibs(L);
    preload_cnn_core(L);
    prepend_lua_path(L);
    create_arg_table(L, argv, argc, opt.script);
    lua_gc(L, LUA_GCRESTART);
    if (!(opt.flags & OPT_NOENV) && run_lua_init(L) != LUA_OK)
        return 0;
    define_help_global(L);
    if (prompt || (opt.flags & OPT_EXEC))
        define_cnn_global(L);
    if (!run_options(L, argv, opt.script ? opt.script : argc))
        return 0;
    if (opt.script && run_script(L, argv, opt.script) != LUA_OK)
        return 0;
    if (prompt)
        repl_run(L);
    else if (opt.script == 0 && !(opt.flags & (OPT_EXEC | OPT_VERSION)) &&
             run_file(L, NULL) != LUA_OK)
        return 0;
    lua_pushboolean(L, 1);
    return 1;
}

/* Before anything else, so that a Ctrl-C can never find the main thread
 * without its stack. Without one, the program still runs, with a warning. */
static void prepare_signals(void)
{
    if (signals_init() == 0)
        return;
    fprintf(stderr,
            "%s: warning: no alternate signal stack (%s); "
            "Ctrl-C during a computation may crash\n",
            CNNLUA_PROGNAME, strerror(errno));
    fflush(stderr);
}

/* A script that ends with os.exit (the C library's exit, past main's
 * end) leaves the job too: with status 0 as main does, otherwise as
 * after an error, ending the whole job. */
static void leave_job_at_exit(int status, void *unused)
{
    (void)unused;
    if (status != 0)
        cnn_distributed_abort(status);
    cnn_distributed_finish();
}

/* Joins the MPI job when mpirun (or another Open MPI launcher) started
 * the program; any other start is a job of one process and MPI is never
 * initialised. A cnnlua built without MPI says so and runs alone. */
static int join_job(int *argc, char ***argv)
{
    const char *launcher = cnn_distributed_launcher();
    if (launcher == NULL)
        return 1;
    if (!cnn_distributed_compiled()) {
        fprintf(stderr,
                "%s: warning: started by an MPI launcher (%s) but built without MPI "
                "support (CMake's CNNLUA_MPI); running as a job of one process\n",
                CNNLUA_PROGNAME, launcher);
        fflush(stderr);
        return 1;
    }
    if (cnn_distributed_start(argc, argv) == CNN_OK) {
        on_exit(leave_job_at_exit, NULL);
        return 1;
    }
    fprintf(stderr, "%s: cannot join the MPI job (%s): %s\n", CNNLUA_PROGNAME, launcher,
            cnn_error_message());
    fflush(stderr);
    return 0;
}

/* The end of a job: after an error in a job of several processes, every
 * other process is waiting for this one in a collective call, so the
 * whole job is ended (MPI_Abort, after the message was printed). */
static void leave_job(int failed)
{
    if (failed)
        cnn_distributed_abort(EXIT_FAILURE);
    cnn_distributed_finish();
}

int main(int argc, char **argv)
{
    lua_State *L;
    int status, ok;
    prepare_signals();
    if (!join_job(&argc, &argv))
        return EXIT_FAILURE;
    L = luaL_newstate();
    if (L == NULL) {
        print_message("cannot create state: not enough memory");
        return EXIT_FAILURE;
    }
    /* The collector stays in Lua's default incremental mode: in generational
     * mode, tensors that survive a training step or two turn old and are
     * only freed by the rarer major collections. */
    lua_gc(L, LUA_GCSTOP); /* no collection while the libraries open */
    lua_pushcfunction(L, pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    status = lua_pcall(L, 2, 1, 0);
    ok = lua_toboolean(L, -1);
    host_report(L, status);
    ok = ok && status == LUA_OK;
    if (!ok)
        leave_job(1);
    lua_close(L);
    leave_job(0);
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
