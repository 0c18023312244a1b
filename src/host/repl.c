/* The interactive prompt: read a chunk, run it, print its values.
 *
 * A line is first tried as an expression ("return <line>;"), so `x * 2`
 * shows its value; otherwise it is a statement, and lines are added while
 * Lua reports the chunk unfinished. Values go through the global `print`,
 * so tensors show through their __tostring.
 *
 * On a terminal, readline edits lines and ~/.cnnlua_history keeps them
 * between sessions; Ctrl-C clears the line being typed. Elsewhere (a pipe,
 * a file) plain lines are read, as lua does without readline. Ctrl-C
 * interrupts a running chunk however often it comes: at the prompt a
 * second one does not end the program, as it does in a script. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#ifndef CNNLUA_NO_READLINE
#include <readline/history.h>
#include <readline/readline.h>
#endif

#include "host.h"
#include "repl.h"
#include "signals.h"

#define CHUNKNAME     "=stdin"
#define EOFMARK       "<eof>"
#define HISTORY_FILE  "/.cnnlua_history"
#define HISTORY_LINES 1000

/* What reading a line or a chunk can end in, besides a load status. */
enum { READ_LINE = 0, READ_EOF = -1, READ_CANCELLED = -2, READ_COMMAND = -3 };

struct input {
    int edited;         /* readline on a terminal, else plain lines */
    int timing;         /* .time on: each line's time after its values */
    char *history_path; /* NULL when there is no usable HOME */
    struct sigaction saved_sigint;
};

/* {==================================================================
 * Plain lines
 * =================================================================== */

/* Reads through a luaL_Buffer, so a line of any length ends up on the
 * stack and a memory error cannot leak it. */
static int read_plain_line(lua_State *L, const char *prompt)
{
    luaL_Buffer b;
    int c;
    fputs(prompt, stdout);
    fflush(stdout);
    luaL_buffinit(L, &b);
    while ((c = getchar()) != EOF && c != '\n')
        luaL_addchar(&b, (char)c);
    if (c == EOF && luaL_bufflen(&b) == 0) {
        luaL_pushresult(&b);
        lua_pop(L, 1);
        return READ_EOF;
    }
    luaL_pushresult(&b);
    return READ_LINE;
}

/* }================================================================== */

#ifndef CNNLUA_NO_READLINE

/* {==================================================================
 * Edited lines
 *
 * readline() waits for keys through rl_getc_function. Ours also wakes on
 * a signal and lets readline handle it (restoring the terminal around
 * Ctrl-Z, echoing ^C); readline then passes SIGINT on to our handler,
 * which only sets a flag, and the wait ends the line emptied, so the
 * prompt starts afresh. Keys typed ahead, such as a pasted block, stay in
 * readline's buffer for the next call.
 * =================================================================== */

static volatile sig_atomic_t prompt_interrupted;
static int line_cancelled;

static void on_prompt_interrupt(int sig)
{
    (void)sig;
    prompt_interrupted = 1;
}

static int sigint_pending(void)
{
    sigset_t pending;
    return sigpending(&pending) == 0 && sigismember(&pending, SIGINT) == 1;
}

/* Waits until 'fd' is readable (> 0) or a signal comes (< 0). Signals are
 * blocked around the test for one already caught, so that none can slip
 * in between the test and the wait. When a key and Ctrl-C arrive together,
 * pselect reports the key and leaves SIGINT pending; Ctrl-C goes first,
 * or the key typed after it would be erased with the abandoned line. */
static int wait_for_key(int fd)
{
    sigset_t all, unblocked;
    fd_set ready;
    int result = -1;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &unblocked);
    if (!prompt_interrupted && rl_pending_signal() == 0) {
        FD_ZERO(&ready);
        FD_SET(fd, &ready);
        result = pselect(fd + 1, &ready, NULL, NULL, NULL, &unblocked);
        if (result > 0 && sigint_pending())
            result = -1;
    }
    sigprocmask(SIG_SETMASK, &unblocked, NULL);
    return result;
}

static int getc_or_interrupt(FILE *stream)
{
    int fd = fileno(stream);
    for (;;) {
        if (wait_for_key(fd) > 0) {
            unsigned char c;
            ssize_t n = read(fd, &c, 1);
            if (n == 1)
                return c;
            if (n == 0 || errno != EINTR)
                return EOF;
        }
        rl_check_signals();
        if (prompt_interrupted) {
            prompt_interrupted = 0;
            line_cancelled = 1;
            rl_replace_line("", 0);
            rl_point = rl_end = 0;
            return '\n';
        }
    }
}

/* The last line from readline() is freed on the next read, not before
 * pushing it, so that a memory error while pushing cannot leak it. */
static char *last_line;

static int read_edited_line(lua_State *L, const char *prompt)
{
    free(last_line);
    prompt_interrupted = 0;
    line_cancelled = 0;
    last_line = readline(prompt);
    if (last_line == NULL)
        return READ_EOF;
    if (line_cancelled)
        return READ_CANCELLED;
    lua_pushstring(L, last_line);
    return READ_LINE;
}

static char *history_path(void)
{
    const char *home = getenv("HOME");
    char *path;
    if (home == NULL || home[0] == '\0')
        return NULL;
    path = malloc(strlen(home) + sizeof HISTORY_FILE);
    if (path != NULL) {
        strcpy(path, home);
        strcat(path, HISTORY_FILE);
    }
    return path;
}

/* A missing or unwritable history file only means no history. */
static void load_history(const char *path)
{
    int fd;
    read_history(path);
    /* append_history() does not create the file */
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0)
        close(fd);
    history_truncate_file(path, HISTORY_LINES);
}

static void remember_line(struct input *in, const char *line)
{
    HIST_ENTRY *last;
    if (!in->edited || line[0] == '\0')
        return;
    last = history_get(history_base + history_length - 1);
    if (last != NULL && strcmp(last->line, line) == 0)
        return;
    add_history(line);
    if (in->history_path != NULL)
        append_history(1, in->history_path);
}

/* {==================================================================
 * Completion
 *
 * Tab completes the word before the cursor through cnn.complete.words,
 * which reads tables without running user code; with only blanks before
 * the cursor it indents. File names are never offered.
 * =================================================================== */

static lua_State *completion_state;

/* Lua's operators and brackets end a word; '.' and ':' do not, so that
 * "cnn.Con" and "x:res" are completed whole. */
static char word_breaks[] = " \t\n\"\\'`@$><=;|&{}()[],+-*/%^~#";

/* The completions of 'word' from cnn.complete, as a NULL-terminated array
 * for readline: the longest common prefix first, then each word. NULL
 * when there are none or the library is missing. */
static char **lua_completions(lua_State *L, const char *word)
{
    char **matches = NULL;
    int top = lua_gettop(L);
    size_t n, common;
    if (!lua_checkstack(L, 8))
        return NULL;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "cnn.complete");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || lua_getfield(L, -1, "words") != LUA_TFUNCTION)
        goto done;
    lua_pushstring(L, word);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1))
        goto done;
    n = lua_rawlen(L, -1);
    if (n == 0 || (matches = calloc(n + 2, sizeof *matches)) == NULL)
        goto done;
    for (size_t i = 1; i <= n; i++) {
        const char *w =
            lua_rawgeti(L, -1, (lua_Integer)i) == LUA_TSTRING ? lua_tostring(L, -1) : "";
        matches[i] = strdup(w);
        lua_pop(L, 1);
        if (matches[i] == NULL)
            goto failed;
    }
    common = strlen(matches[1]);
    for (size_t i = 2; i <= n; i++) {
        size_t k = 0;
        while (k < common && matches[i][k] == matches[1][k])
            k++;
        common = k;
    }
    if ((matches[0] = strndup(matches[1], common)) == NULL)
        goto failed;
    goto done;
failed:
    for (size_t i = 0; i <= n; i++)
        free(matches[i]);
    free(matches);
    matches = NULL;
done:
    lua_settop(L, top);
    return matches;
}

static char **complete_word(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1; /* no file names */
    rl_completion_append_character = '\0';
    return lua_completions(completion_state, text);
}

static int complete_or_indent(int count, int key)
{
    for (int i = 0; i < rl_point; i++)
        if (rl_line_buffer[i] != ' ' && rl_line_buffer[i] != '\t')
            return rl_complete(count, key);
    return rl_insert(count, '\t');
}

/* }================================================================== */

static void start_editing(struct input *in, lua_State *L)
{
    rl_readline_name = "cnnlua";
    rl_getc_function = getc_or_interrupt;
    rl_initialize();
    completion_state = L;
    rl_attempted_completion_function = complete_word;
    rl_completer_word_break_characters = word_breaks;
    rl_bind_key('\t', complete_or_indent);
    /* one Tab lists the choices when there are several */
    rl_variable_bind("show-all-if-ambiguous", "on");
    using_history();
    in->history_path = history_path();
    if (in->history_path != NULL)
        load_history(in->history_path);
    /* readline passes Ctrl-C on to this handler once it has dealt with it.
     * readline's own handler, set only while it reads, may use the normal
     * stack: no JIT kernel runs then. */
    signals_catch(SIGINT, on_prompt_interrupt, &in->saved_sigint);
}

static void stop_editing(struct input *in)
{
    sigaction(SIGINT, &in->saved_sigint, NULL);
    free(last_line);
    last_line = NULL;
    free(in->history_path);
    in->history_path = NULL;
}

/* }================================================================== */

#else /* CNNLUA_NO_READLINE */

static int read_edited_line(lua_State *L, const char *prompt)
{
    return read_plain_line(L, prompt);
}

static void remember_line(struct input *in, const char *line)
{
    (void)in;
    (void)line;
}

static void start_editing(struct input *in, lua_State *L)
{
    (void)L;
    in->history_path = NULL;
}

static void stop_editing(struct input *in) { (void)in; }

#endif /* CNNLUA_NO_READLINE */

/* {==================================================================
 * Chunks
 * =================================================================== */

/* _PROMPT or _PROMPT2 as a string, left on the stack. */
static const char *push_prompt(lua_State *L, int first)
{
    const char *prompt;
    if (lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2") == LUA_TNIL) {
        lua_pop(L, 1);
        return lua_pushstring(L, first ? "> " : ">> ");
    }
    prompt = luaL_tolstring(L, -1, NULL);
    lua_remove(L, -2);
    return prompt;
}

/* Pushes the next line, without its newline, and records it in the
 * history. Returns READ_LINE, READ_EOF or READ_CANCELLED. */
static int read_line(lua_State *L, struct input *in, int first)
{
    const char *prompt = push_prompt(L, first);
    int result = in->edited ? read_edited_line(L, prompt) : read_plain_line(L, prompt);
    if (result == READ_LINE) {
        lua_remove(L, -2);
        remember_line(in, lua_tostring(L, -1));
    } else {
        lua_pop(L, 1);
    }
    return result;
}

/* Lua says a chunk is unfinished, rather than wrong, by a syntax error
 * that ends at "<eof>". */
static int is_incomplete(lua_State *L, int status)
{
    size_t len;
    const char *msg;
    if (status != LUA_ERRSYNTAX)
        return 0;
    msg = lua_tolstring(L, -1, &len);
    return msg != NULL && len >= sizeof EOFMARK - 1 &&
           strcmp(msg + len - (sizeof EOFMARK - 1), EOFMARK) == 0;
}

/* With the line on the stack, tries to compile "return <line>;". On
 * success the function replaces the line. */
static int load_as_expression(lua_State *L)
{
    const char *line = lua_tostring(L, -1);
    const char *code = lua_pushfstring(L, "return %s;", line);
    int status = luaL_loadbuffer(L, code, strlen(code), CHUNKNAME);
    if (status == LUA_OK) {
        lua_replace(L, -3);
        lua_pop(L, 1);
    } else {
        lua_pop(L, 2);
    }
    return status;
}

/* With the text so far on the stack, compiles it, reading more lines while
 * it is unfinished. Leaves the function or the error message in place of
 * the text. End of input leaves the last syntax error. */
static int load_statements(lua_State *L, struct input *in)
{
    for (;;) {
        size_t len;
        const char *text = lua_tolstring(L, -1, &len);
        int status = luaL_loadbuffer(L, text, len, CHUNKNAME);
        int more;
        if (!is_incomplete(L, status)) {
            lua_remove(L, -2);
            return status;
        }
        more = read_line(L, in, 0);
        if (more == READ_EOF) {
            lua_remove(L, -2);
            return status;
        }
        if (more == READ_CANCELLED) {
            lua_pop(L, 2);
            return READ_CANCELLED;
        }
        lua_remove(L, -2); /* the "<eof>" error */
        lua_pushliteral(L, "\n");
        lua_insert(L, -2);
        lua_concat(L, 3);
    }
}

/* Whether 's' holds the closing long bracket of level 'level', "]==]". */
static int has_closing_bracket(const char *s, int level)
{
    for (const char *p = strchr(s, ']'); p != NULL; p = strchr(p + 1, ']')) {
        int k = 0;
        while (p[1 + k] == '=')
            k++;
        if (k == level && p[1 + k] == ']')
            return 1;
    }
    return 0;
}

/* With a line "?text" on the stack, compiles the call that shows its help,
 * cnn.help's query("text"), the text quoted in a long bracket it cannot
 * close, in place of the line. */
static int load_help_query(lua_State *L)
{
    const char *text = lua_tostring(L, -1) + 1;
    int level = 0;
    luaL_Buffer b;
    while (has_closing_bracket(text, level))
        level++;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "return require('cnn.help').query([");
    for (int i = 0; i < level; i++)
        luaL_addchar(&b, '=');
    luaL_addchar(&b, '[');
    luaL_addstring(&b, text);
    luaL_addchar(&b, ']');
    for (int i = 0; i < level; i++)
        luaL_addchar(&b, '=');
    luaL_addstring(&b, "])");
    luaL_pushresult(&b);
    lua_replace(L, -2);
    size_t len;
    const char *code = lua_tolstring(L, -1, &len);
    int status = luaL_loadbuffer(L, code, len, CHUNKNAME);
    lua_remove(L, -2);
    return status;
}

/* {==================================================================
 * Prompt commands
 *
 * A line starting with '.' and a letter is a command to the prompt, not
 * Lua (which never starts a statement with '.', and a number such as .5
 * has a digit after it).
 * =================================================================== */

static const char *const prompt_commands[] = {
    ".time on    print each line's wall time and tensor allocations after it",
    ".time off   stop printing them",
    ".help       list these commands",
    NULL,
};

static int is_prompt_command(const char *line)
{
    return line[0] == '.' &&
           ((line[1] >= 'a' && line[1] <= 'z') || (line[1] >= 'A' && line[1] <= 'Z'));
}

static void list_prompt_commands(FILE *out)
{
    for (int i = 0; prompt_commands[i] != NULL; i++)
        fprintf(out, "  %s\n", prompt_commands[i]);
    fflush(out);
}

/* Runs the command in 'line', words separated by blanks; an unknown one
 * is reported with the list of those there are. */
static void run_prompt_command(struct input *in, const char *line)
{
    char word[16], arg[16], extra[2];
    int n = sscanf(line, " %15s %15s %1s", word, arg, extra);
    if (n == 2 && strcmp(word, ".time") == 0 && strcmp(arg, "on") == 0) {
        in->timing = 1;
        return;
    }
    if (n == 2 && strcmp(word, ".time") == 0 && strcmp(arg, "off") == 0) {
        in->timing = 0;
        return;
    }
    if (n == 1 && strcmp(word, ".help") == 0) {
        printf("Prompt commands:\n");
        list_prompt_commands(stdout);
        return;
    }
    fprintf(stderr, "%s: unknown prompt command '%s'; the prompt knows:\n",
            CNNLUA_PROGNAME, line);
    list_prompt_commands(stderr);
}

/* }================================================================== */

/* Pushes a compiled chunk (or an error message) and returns its load
 * status, or returns READ_EOF, READ_CANCELLED or READ_COMMAND with
 * nothing pushed. A line starting with '?' asks for help: "?cnn.Conv" is
 * help(cnn.Conv); one starting with '.' is a prompt command. */
static int load_chunk(lua_State *L, struct input *in)
{
    int result = read_line(L, in, 1);
    if (result != READ_LINE)
        return result;
    if (is_prompt_command(lua_tostring(L, -1))) {
        run_prompt_command(in, lua_tostring(L, -1));
        lua_pop(L, 1);
        return READ_COMMAND;
    }
    if (lua_tostring(L, -1)[0] == '?')
        return load_help_query(L);
    if (load_as_expression(L) == LUA_OK)
        return LUA_OK;
    return load_statements(L, in);
}

/* }================================================================== */

/* A function result that cnn documents is shown as its signature and
 * summary, through cnn.help's line, when that is loaded: `cnn.Conv` shows
 * "Conv(kernel, cin, cout [, act] [, opts])  -- 2-D convolution layer;
 * help(cnn.Conv) for more". Any other function is left as it is. */
static void describe_functions(lua_State *L, int n)
{
    int first = lua_gettop(L) - n + 1;
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "cnn.help") != LUA_TTABLE ||
        lua_getfield(L, -1, "line") != LUA_TFUNCTION) {
        lua_settop(L, first + n - 1);
        return;
    }
    int line = lua_gettop(L);
    for (int i = first; i < first + n; i++) {
        if (lua_type(L, i) != LUA_TFUNCTION)
            continue;
        lua_pushvalue(L, line);
        lua_pushvalue(L, i);
        if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING)
            lua_replace(L, i);
        else
            lua_pop(L, 1);
    }
    lua_settop(L, first + n - 1);
}

/* A plain table result (one without __tostring, such as the sizes that
 * t:size() returns) is shown through cnn.repr when the library is loaded,
 * as {28, 28, 1, 128} rather than as an address. A failing repr leaves the
 * value as it is. */
static void describe_tables(lua_State *L, int n)
{
    int first = lua_gettop(L) - n + 1;
    lua_getglobal(L, "cnn");
    int repr_found =
        lua_type(L, -1) == LUA_TTABLE && lua_getfield(L, -1, "repr") == LUA_TFUNCTION;
    if (!repr_found) {
        lua_settop(L, first + n - 1);
        return;
    }
    int repr = lua_gettop(L);
    for (int i = first; i < first + n; i++) {
        if (lua_type(L, i) != LUA_TTABLE)
            continue;
        if (luaL_getmetafield(L, i, "__tostring") != LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, repr);
        lua_pushvalue(L, i);
        if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING)
            lua_replace(L, i);
        else
            lua_pop(L, 1);
    }
    lua_settop(L, first + n - 1);
}

static void print_results(lua_State *L, int n)
{
    if (n == 0)
        return;
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    describe_tables(L, n);
    describe_functions(L, n);
    lua_getglobal(L, "print");
    lua_insert(L, -(n + 1));
    host_report(L, host_docall(L, n, 0));
}

/* Calls cnn.timing's 'name' on the 'nargs' values on top, leaving its
 * one result in their place: nil when the library is missing or fails. */
static void call_timing(lua_State *L, const char *name, int nargs)
{
    int first = lua_gettop(L) - nargs + 1;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "cnn.timing");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || lua_getfield(L, -1, name) != LUA_TFUNCTION) {
        lua_settop(L, first - 1);
        lua_pushnil(L);
        return;
    }
    lua_remove(L, -2);
    lua_insert(L, first);
    if (lua_pcall(L, nargs, 1, 0) != LUA_OK) {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
}

/* Runs the function on top and prints its values; with 'timing', then
 * the line cnn.time prints, through cnn.timing (the time and allocations
 * of the chunk, not of printing its values). */
static void run_chunk(lua_State *L, int timing)
{
    int mark = 0, base, status;
    if (timing) {
        call_timing(L, "start", 0);
        lua_insert(L, -2);
        mark = lua_gettop(L) - 1;
    }
    base = lua_gettop(L) - 1; /* below the function */
    status = host_docall(L, 0, LUA_MULTRET);
    if (status != LUA_OK) {
        host_report(L, status);
        return;
    }
    if (timing && !lua_isnil(L, mark)) {
        lua_pushvalue(L, mark);
        call_timing(L, "report", 1);
        lua_replace(L, mark);
    }
    print_results(L, lua_gettop(L) - base);
    if (timing && lua_type(L, mark) == LUA_TSTRING) {
        printf("%s\n", lua_tostring(L, mark));
        fflush(stdout);
    }
}

/* Runs in protected mode so that the terminal and the SIGINT handler are
 * restored by repl_run however the loop ends. */
static int repl_loop(lua_State *L)
{
    struct input *in = (struct input *)lua_touserdata(L, 1);
    int top = lua_gettop(L);
    int status;
    while ((status = load_chunk(L, in)) != READ_EOF) {
        if (status == LUA_OK)
            run_chunk(L, in->timing);
        else if (status != READ_CANCELLED && status != READ_COMMAND)
            host_report(L, status);
        lua_settop(L, top);
    }
    fputc('\n', stdout);
    fflush(stdout);
    return 0;
}

void repl_run(lua_State *L)
{
    struct input in;
    int status;
    memset(&in, 0, sizeof in);
    in.edited = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (in.edited)
        start_editing(&in, L);
    host_set_repeat_interrupt_ends(0);
    lua_pushcfunction(L, repl_loop);
    lua_pushlightuserdata(L, &in);
    status = lua_pcall(L, 1, 0, 0);
    host_set_repeat_interrupt_ends(1);
    if (in.edited)
        stop_editing(&in);
    if (status != LUA_OK)
        lua_error(L);
}
