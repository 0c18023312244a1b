--- The cnnlua program, tested as a program: options, the arg table, exit
-- statuses and messages, and the prompt driven through a terminal (tmux).
-- The executable is $CNNLUA, else ./build/cnnlua.

local CNNLUA = os.getenv("CNNLUA") or "./build/cnnlua"

local helpers = require "helpers"
local quote = helpers.quote

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

local function write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function first_line(cmdline)
  local p = io.popen(cmdline)
  local line = p:read("l")
  p:close()
  return line
end

local tmpdir = first_line("mktemp -d")
local cnnlua = CNNLUA:sub(1, 1) == "/" and CNNLUA or first_line("pwd") .. "/" .. CNNLUA

--- Runs a shell command line with stdin from 'stdin' (a string) or
-- /dev/null; returns stdout, stderr and the exit status. The status is
-- read from the output, which works under any Lua version.
local function sh(cmdline, stdin)
  local input, errors = tmpdir .. "/stdin", tmpdir .. "/stderr"
  write_file(input, stdin or "")
  local p = io.popen("(" .. cmdline .. ") <" .. quote(input) .. " 2>" .. quote(errors)
    .. "; echo \"<rc=$?>\"")
  local out = p:read("a")
  p:close()
  local stdout, rc = out:match("^(.-)<rc=(%d+)>\n$")
  return stdout, read_file(errors), tonumber(rc)
end

-- A clean, known environment: no LUA_INIT from the caller, and a HOME
-- that the prompt's history may write to.
local ENV = "env -u LUA_INIT -u LUA_INIT_5_4 -u LUA_PATH -u LUA_PATH_5_4 -u CNNLUA_TRACEBACK HOME="
  .. quote(tmpdir)

--- Runs cnnlua with the argument list 'args'; 'opts.env' adds variables
-- (a string of NAME=value words, already quoted), 'opts.stdin' feeds stdin.
local function run(args, opts)
  opts = opts or {}
  local words = {}
  for i, a in ipairs(args) do words[i] = quote(a) end
  return sh(ENV .. " " .. (opts.env or "") .. " " .. quote(cnnlua) .. " " .. table.concat(words, " "),
    opts.stdin)
end

local function script(name, text)
  local path = tmpdir .. "/" .. name
  write_file(path, text)
  return path
end

--- Whether some line of 'text' starts with 'start' (stderr may also hold a
-- warning about the cnn library before it).
local function has_line_starting(text, start)
  return ("\n" .. text):find("\n" .. start, 1, true) ~= nil
end

local VERSION_PATTERN = "^cnnlua %d+%.%d+%.%d+ %(Lua 5%.4%.%d+, oneDNN %d+%.%d+%.%d+%)\n"

local function version_line()
  local out = run({ "-v" })
  return out
end

teardown(function()
  os.execute("rm -rf " .. quote(tmpdir))
end)

describe("cnnlua", function()
  it("exists at $CNNLUA or ./build/cnnlua", function()
    local _, _, rc = sh("test -x " .. quote(cnnlua))
    assert.are.equal(0, rc, cnnlua .. " is not an executable; build it first")
  end)

  describe("-e", function()
    it("runs each string in order and exits 0", function()
      local out, err, rc = run({ "-e", "x = 20", "-e", "print(x + 22)" })
      assert.are.equal("42\n", out)
      assert.are.equal(0, rc, err)
    end)

    it("passes the status of os.exit through", function()
      local _, _, rc = run({ "-e", "os.exit(3)" })
      assert.are.equal(3, rc)
    end)

    it("reports a runtime error with a traceback and exits 1", function()
      local out, err, rc = run({ "-e", "local function f() error('boom') end f()" })
      assert.are.equal("", out)
      assert.are.equal(1, rc)
      assert.truthy(has_line_starting(err, "cnnlua: (command line):1: boom\nstack traceback:\n"), err)
      assert.truthy(err:find("in local 'f'", 1, true), err)
    end)

    it("shows a non-string error through __tostring", function()
      local _, err, rc = run({ "-e",
        "error(setmetatable({}, {__tostring = function() return 'custom error' end}))" })
      assert.truthy(has_line_starting(err, "cnnlua: custom error\n"), err)
      assert.are.equal(1, rc)
    end)

    it("names the type of an error object without __tostring", function()
      local _, err, rc = run({ "-e", "error({})" })
      assert.truthy(has_line_starting(err, "cnnlua: (error object is a table value)\n"), err)
      assert.are.equal(1, rc)
    end)
  end)

  describe("the arg table", function()
    it("holds the script at 0, its arguments above and the interpreter below", function()
      local path = script("args.lua", [[
        print(arg[-3], arg[-2], arg[-1], arg[0], arg[1], arg[2], arg[3])
        print(select('#', ...), ...)
      ]])
      local out, err, rc = run({ "-e", "x = 1", path, "a", "b" })
      assert.are.equal(0, rc, err)
      assert.are.equal(cnnlua .. "\t-e\tx = 1\t" .. path .. "\ta\tb\tnil\n2\ta\tb\n", out)
    end)

    it("puts the interpreter at 0 when there is no script", function()
      local out = run({ "-e", "print(arg[0], arg[1], arg[2], arg[-1])" })
      assert.are.equal(cnnlua .. "\t-e\tprint(arg[0], arg[1], arg[2], arg[-1])\tnil\n", out)
    end)

    it("takes the script name after --", function()
      local path = script("dash.lua", "print(arg[-1], arg[0], ...)")
      local out, err, rc = run({ "--", path, "x" })
      assert.are.equal(0, rc, err)
      assert.are.equal("--\t" .. path .. "\tx\n", out)
    end)
  end)

  describe("a script from stdin", function()
    it("runs with '-' and gets its arguments", function()
      local out, err, rc = run({ "-", "p", "q" },
        { stdin = "print(arg[0], ...)\nprint(debug.getinfo(1, 'S').source)\n" })
      assert.are.equal(0, rc, err)
      assert.are.equal("-\tp\tq\n=stdin\n", out)
    end)

    it("runs without arguments when stdin is not a terminal", function()
      local out, _, rc = run({}, { stdin = "print('piped')" })
      assert.are.equal("piped\n", out)
      assert.are.equal(0, rc)
    end)
  end)

  describe("a script file", function()
    it("exits 1 on a runtime error, with the message and a traceback", function()
      local path = script("fails.lua", "local x = 1\nerror('script failed')\n")
      local out, err, rc = run({ path })
      assert.are.equal("", out)
      assert.are.equal(1, rc)
      assert.are.equal("cnnlua: " .. path .. ":2: script failed\nstack traceback:\n",
        err:sub(1, #("cnnlua: " .. path .. ":2: script failed\nstack traceback:\n")))
    end)

    it("exits 1 on a syntax error that names the chunk", function()
      local path = script("bad.lua", "x = = 1\n")
      local out, err, rc = run({ path })
      assert.are.equal("", out)
      assert.are.equal(1, rc)
      assert.are.equal("cnnlua: " .. path .. ":1: unexpected symbol near '='\n", err)
    end)

    it("exits 1 when the file does not exist", function()
      local _, err, rc = run({ tmpdir .. "/missing.lua" })
      assert.are.equal(1, rc)
      assert.truthy(err:find("^cnnlua: cannot open .*missing%.lua"), err)
    end)

    it("gets no cnn global: scripts require it themselves", function()
      local path = script("noglobal.lua", "print(rawget(_G, 'cnn'))")
      local out, err, rc = run({ path })
      assert.are.equal(0, rc, err)
      assert.are.equal("nil\n", out)
    end)

    it("is stopped by SIGINT with 'interrupted!' and status 1", function()
      local out, errfile = tmpdir .. "/int.out", tmpdir .. "/int.err"
      local stdout = sh(ENV .. " " .. quote(cnnlua)
        .. [[ -e 'io.write("ready\n") io.stdout:flush() while true do end' >]] .. quote(out)
        .. " 2>" .. quote(errfile) .. [[ & pid=$!
        i=0; while [ ! -s ]] .. quote(out) .. [[ ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
        kill -INT $pid; wait $pid; echo "status=$?"]])
      assert.are.equal("status=1\n", stdout)
      assert.truthy(read_file(errfile):find("^cnnlua: .*interrupted!"), read_file(errfile))
    end)

    -- A model slow enough that SIGINT lands in cnn.train, inside the library.
    local training = script("training.lua", [[
local cnn = require "cnn"
local m = cnn.Chain(cnn.Dense(784, 256, cnn.relu), cnn.Dense(256, 10))
local x, y = cnn.rand(784, 1024), cnn.rand(10, 1024)
local loader = cnn.DataLoader(x, y, {batchsize = 64})
io.write("training\n") io.stdout:flush()
cnn.train(function(a, b) return cnn.mse(m(a), b) end, cnn.params(m),
  cnn.ncycle(loader, 100000), cnn.Adam(), {progress = false})
]])

    --- Runs training.lua, interrupts it a little after it starts training;
    -- returns its stderr and the exit status.
    local function interrupt_training(env)
      local out, errfile = tmpdir .. "/train.out", tmpdir .. "/train.err"
      local stdout = sh(ENV .. " " .. (env or "") .. " " .. quote(cnnlua) .. " " .. quote(training)
        .. " >" .. quote(out) .. " 2>" .. quote(errfile) .. [[ & pid=$!
        i=0; while [ ! -s ]] .. quote(out) .. [[ ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
        sleep 0.5; kill -INT $pid; wait $pid; echo "status=$?"]])
      return read_file(errfile), stdout
    end

    it("names the script's line, not the library's, when SIGINT lands in cnn.train", function()
      local err, stdout = interrupt_training()
      assert.are.equal("status=1\n", stdout)
      assert.are.equal("cnnlua: interrupted at " .. training .. ":6 (your script)\n", err)
      assert.falsy(err:find("lua/cnn", 1, true), err)
    end)

    it("shows the whole traceback into the library with CNNLUA_TRACEBACK=1", function()
      local err, stdout = interrupt_training("CNNLUA_TRACEBACK=1")
      assert.are.equal("status=1\n", stdout)
      assert.truthy(err:find("^cnnlua: .*interrupted!\nstack traceback:\n"), err)
      assert.truthy(err:find("lua/cnn/train.lua:%d+: in function"), err)
      assert.truthy(err:find(training .. ":6: in main chunk", 1, true), err)
    end)
  end)

  describe("-l", function()
    local libdir = tmpdir .. "/lib"
    os.execute("mkdir -p " .. quote(libdir))
    write_file(libdir .. "/answer.lua", "return { value = 42 }")
    local lua_path = "LUA_PATH=" .. quote(libdir .. "/?.lua;;")

    it("requires a module into the global of the same name", function()
      local out, err, rc = run({ "-l", "answer", "-e", "print(answer.value)" }, { env = lua_path })
      assert.are.equal(0, rc, err)
      assert.are.equal("42\n", out)
    end)

    it("requires a module into another global with g=mod", function()
      local out, err, rc = run({ "-l", "a=answer", "-e", "print(a.value, answer)" }, { env = lua_path })
      assert.are.equal(0, rc, err)
      assert.are.equal("42\tnil\n", out)
    end)

    it("fails clearly, with status 1, on a missing module", function()
      local out, err, rc = run({ "-l", "no_such_module", "-e", "print('not reached')" })
      assert.are.equal("", out)
      assert.are.equal(1, rc)
      assert.truthy(has_line_starting(err, "cnnlua: module 'no_such_module' not found:"), err)
    end)

    it("finds the built-in cnn.core without a file", function()
      local out, err, rc = run({ "-l", "core=cnn.core", "-e",
        "print(type(package.preload['cnn.core']), type(core))" })
      assert.are.equal(0, rc, err)
      assert.are.equal("function\ttable\n", out)
    end)
  end)

  describe("environment", function()
    it("runs LUA_INIT before -e, and LUA_INIT_5_4 instead when both are set", function()
      local out = run({ "-e", "print('e')" }, { env = "LUA_INIT=" .. quote("print('init')") })
      assert.are.equal("init\ne\n", out)
      out = run({ "-e", "print('e')" },
        { env = "LUA_INIT=" .. quote("print('init')") .. " LUA_INIT_5_4=" .. quote("print('init54')") })
      assert.are.equal("init54\ne\n", out)
    end)

    it("runs a file named by LUA_INIT=@file", function()
      local path = script("init.lua", "print('from init file')")
      local out = run({ "-e", "" }, { env = "LUA_INIT=" .. quote("@" .. path) })
      assert.are.equal("from init file\n", out)
    end)

    it("ignores LUA_INIT and LUA_PATH with -E", function()
      local libdir = tmpdir .. "/lib"
      local env = "LUA_INIT=" .. quote("print('init')") .. " LUA_PATH=" .. quote(libdir .. "/?.lua;;")
      local out, err, rc = run({ "-E", "-e", "print(package.path:find(" .. quote(libdir) .. ", 1, true))" },
        { env = env })
      assert.are.equal(0, rc, err)
      assert.are.equal("nil\n", out)
    end)

    it("prepends the Lua folders next to the executable to package.path", function()
      local prefix = first_line("cd \"$(dirname \"$(readlink -f " .. quote(cnnlua) .. ")\")/..\" && pwd -P")
      local out = run({ "-e", "io.write(package.path)" })
      local expected = ("%s/lua/?.lua;%s/lua/?/init.lua;%s/share/lua/5.4/?.lua;%s/share/lua/5.4/?/init.lua;")
        :format(prefix, prefix, prefix, prefix)
      assert.are.equal(expected, out:sub(1, #expected))
    end)

    it("keeps LUA_PATH after its own folders", function()
      local out = run({ "-e", "io.write(package.path)" }, { env = "LUA_PATH=" .. quote("/somewhere/?.lua") })
      local tail = ";/somewhere/?.lua"
      assert.are.equal(tail, out:sub(-#tail))
    end)
  end)

  describe("the cnn global", function()
    it("is require 'cnn' in -e strings", function()
      local out = run({ "-e", "print(cnn == require 'cnn')" })
      assert.are.equal("true\n", out)
    end)

    it("is left undefined, with a warning, when require 'cnn' fails", function()
      local broken = "package.preload.cnn = function() error('cnn is broken here') end"
      local out, err, rc = run({ "-e", "print(cnn)" }, { env = "LUA_INIT=" .. quote(broken) })
      assert.are.equal(0, rc, err)
      assert.are.equal("nil\n", out)
      assert.truthy(err:find("^cnnlua: warning: .*cnn is broken here"), err)
    end)
  end)

  describe("-v, -W, --help and bad options", function()
    it("-v prints the versions of cnnlua, Lua and oneDNN", function()
      local out, err, rc = run({ "-v" })
      assert.are.equal(0, rc, err)
      assert.truthy(out:find(VERSION_PATTERN .. "$"), out)
    end)

    it("-W turns warnings on", function()
      local _, err = run({ "-e", "warn('quiet')" })
      assert.are.equal("", err:gsub("^cnnlua: warning: [^\n]*\n.*", ""))
      _, err = run({ "-W", "-e", "warn('loud')" })
      assert.truthy(err:find("Lua warning: loud\n", 1, true), err)
    end)

    it("--help prints the usage on stdout and exits 0", function()
      local out, err, rc = run({ "--help" })
      assert.are.equal(0, rc)
      assert.are.equal("", err)
      assert.truthy(out:find("^usage: cnnlua %[options%] %[script %[args%]%]\n"), out)
      assert.truthy(out:find("-e stat", 1, true))
      assert.truthy(out:find("-l g=mod", 1, true))
      assert.truthy(out:find("\nhelp(x) prints the documentation of x", 1, true), out)
    end)

    it("defines the global help in scripts, loading cnn only when called", function()
      local path = script("help.lua", "print(type(help), package.loaded.cnn) help('Dense')")
      local out, err, rc = run({ path })
      assert.are.equal(0, rc, err)
      assert.truthy(out:find("^function\tnil\nDense%(in, out %[, act%] %[, opts%]%): fully connected layer"), out)
    end)

    it("rejects an unknown option with the usage and status 1", function()
      local out, err, rc = run({ "-z" })
      assert.are.equal(1, rc)
      assert.are.equal("", out)
      assert.truthy(err:find("^cnnlua: unrecognized option '%-z'\nusage: "), err)
    end)

    it("rejects -e without its argument", function()
      local _, err, rc = run({ "-e" })
      assert.are.equal(1, rc)
      assert.truthy(err:find("^cnnlua: '%-e' needs argument\n"), err)
    end)
  end)

  describe("-i with stdin from a pipe", function()
    local PROMPTS = "_PROMPT = '' _PROMPT2 = ''"

    it("prints expression values and runs statements and multi-line chunks", function()
      local out, err, rc = run({ "-e", PROMPTS, "-i" },
        { stdin = "x = 3\nx * 2\n1, 'two', nil\nfor i = 1, 2 do\nprint(i)\nend\n" })
      assert.are.equal(0, rc, err)
      assert.are.equal(version_line() .. "6\n1\ttwo\tnil\n1\n2\n\n", out)
    end)

    it("shows _PROMPT and _PROMPT2", function()
      local out = run({ "-e", "_PROMPT = 'P1 ' _PROMPT2 = 'P2 '", "-i" },
        { stdin = "for i = 1, 1 do\nprint(i)\nend\n" })
      assert.are.equal(version_line() .. "P1 P2 P2 1\nP1 \n", out)
    end)

    it("reports errors and goes on", function()
      local out, err, rc = run({ "-e", PROMPTS, "-i" },
        { stdin = "error('boom')\nx = = 1\nprint('after')\n" })
      assert.are.equal(0, rc)
      assert.are.equal(version_line() .. "after\n\n", out)
      assert.truthy(err:find("cnnlua: stdin:1: boom\nstack traceback:", 1, true), err)
      assert.truthy(err:find("cnnlua: stdin:1: unexpected symbol near '='", 1, true), err)
    end)

    it("reports an unfinished chunk at the end of input", function()
      local _, err, rc = run({ "-e", PROMPTS, "-i" }, { stdin = "for i = 1, 2 do\n" })
      assert.are.equal(0, rc)
      assert.truthy(err:find("cnnlua: stdin:1: 'end' expected near <eof>", 1, true), err)
    end)

    it("predefines cnn at the prompt", function()
      local out = run({ "-i" }, { stdin = "print(type(cnn))\n" })
      assert.are.equal(version_line() .. "> table\n> \n", out)
    end)

    it("shows plain tables as their contents, other values as they print", function()
      local out = run({ "-e", PROMPTS, "-i" },
        { stdin = "cnn.ones(2, 3):size()\n{1, 'a', {2}}, 'b', {}\n"
          .. "setmetatable({}, {__tostring = function() return 'T' end})\n" })
      assert.are.equal(version_line() .. "{2, 3}\n{1, \"a\", {…}}\tb\t{}\nT\n\n", out)
    end)

    it("runs a script first, then reads the prompt", function()
      local path = script("before.lua", "y = 5")
      local out = run({ "-e", PROMPTS, "-i", path }, { stdin = "y + 1\n" })
      assert.are.equal(version_line() .. "6\n\n", out)
    end)
  end)
end)

--- A terminal running cnnlua, through a private tmux server.
local Term = {}
Term.__index = Term

local function have_tmux()
  local _, _, rc = sh("command -v tmux")
  return rc == 0
end

local term_count = 0

function Term.start()
  term_count = term_count + 1
  local self = setmetatable({}, Term)
  -- a socket inside tmpdir: the server is private and its socket file goes
  -- away with tmpdir
  self.socket = ("%s/tmux-%d"):format(tmpdir, term_count)
  self.status_file = ("%s/repl-status-%d"):format(tmpdir, term_count)
  local command = ENV .. " " .. quote(cnnlua) .. "; echo $? > " .. quote(self.status_file)
  self:tmux("new-session -d -s repl -x 200 -y 50 " .. quote(command))
  self:wait_for_line("> ")
  return self
end

function Term:tmux(args)
  return sh("tmux -S " .. quote(self.socket) .. " -f /dev/null " .. args)
end

--- Types 'text' literally (tmux would read "end" as the End key), then Enter.
function Term:type(text)
  self:tmux("send-keys -t repl -l " .. quote(text))
  self:tmux("send-keys -t repl Enter")
end

function Term:key(name)
  self:tmux("send-keys -t repl " .. name)
end

function Term:lines()
  local screen = self:tmux("capture-pane -p -t repl -S -500") or ""
  local lines = {}
  for line in screen:gmatch("([^\n]*)\n") do
    lines[#lines + 1] = line:gsub("%s+$", "")
  end
  return lines
end

--- The number of the first line at or after 'from' that is 'wanted'
-- (trailing blanks aside) or, with 'partial', that contains it.
function Term:find_line(wanted, from, partial)
  wanted = wanted:gsub("%s+$", "")
  for i, line in ipairs(self:lines()) do
    if i >= (from or 1) and (line == wanted or partial and line:find(wanted, 1, true)) then
      return i
    end
  end
end

function Term:wait_for_line(wanted, from, partial)
  for _ = 1, 200 do
    local i = self:find_line(wanted, from, partial)
    if i then return i end
    os.execute("sleep 0.05")
  end
  error(("no line %q on the screen:\n%s"):format(wanted, table.concat(self:lines(), "\n")), 2)
end

function Term:alive()
  local _, _, rc = self:tmux("has-session -t repl")
  return rc == 0
end

function Term:kill()
  self:tmux("kill-server")
end

describe("the prompt on a terminal", function()
  local function start()
    assert.is_true(have_tmux(), "tmux is not installed; scripts/setup installs it")
    local term = Term.start()
    finally(function() term:kill() end)
    return term
  end

  it("prints expression values and keeps statements' effects", function()
    local term = start()
    term:type("x = 1+1")
    term:type("x * 2")
    term:wait_for_line("4")
    term:type("'a', 2, nil")
    term:wait_for_line("a       2       nil")
  end)

  it("reads a multi-line chunk with the continuation prompt", function()
    local term = start()
    term:type("for i = 1, 2 do")
    term:wait_for_line(">> ")
    term:type("print(i * 10)")
    term:type("end")
    local at = term:wait_for_line(">> end")
    term:wait_for_line("10", at)
    term:wait_for_line("20", at)
  end)

  it("interrupts a running loop on Ctrl-C and goes back to the prompt", function()
    local term = start()
    term:type("print('spinning') while true do end")
    term:wait_for_line("spinning")
    os.execute("sleep 0.1")
    term:key("C-c")
    -- the terminal may have echoed ^C in front of the message
    local at = term:wait_for_line("cnnlua: interrupted!", 1, true)
    term:type("print('alive')")
    term:wait_for_line("alive", at)
  end)

  it("clears the line being typed on Ctrl-C", function()
    local term = start()
    term:tmux("send-keys -t repl -l " .. quote("half typed"))
    term:wait_for_line("> half typed")
    term:key("C-c")
    term:type("print('clean')")
    local at = term:wait_for_line("clean")
    term:type("print('next')")
    term:wait_for_line("next", at)
    -- had the typed text stayed, "half typedprint('clean')" would not compile
    for _, line in ipairs(term:lines()) do
      assert.falsy(line:find("cnnlua: stdin", 1, true), line)
    end
  end)

  it("drops an unfinished chunk on Ctrl-C", function()
    local term = start()
    term:type("for i = 1, 2 do")
    term:wait_for_line(">> ")
    term:key("C-c")
    term:type("print('fresh')")
    term:wait_for_line("> print('fresh')")
    term:wait_for_line("fresh")
  end)

  it("exits 0 on Ctrl-D and keeps the history in ~/.cnnlua_history", function()
    local term = start()
    term:type("history_check = 1")
    term:wait_for_line("> history_check = 1")
    term:key("C-d")
    for _ = 1, 200 do
      if not term:alive() then break end
      os.execute("sleep 0.05")
    end
    assert.falsy(term:alive())
    assert.are.equal("0\n", read_file(term.status_file))
    local history = read_file(tmpdir .. "/.cnnlua_history") or ""
    assert.truthy(history:find("history_check = 1\n", 1, true), history)
  end)

  it("shows tensors through their __tostring", function()
    local expected, err, rc = run({ "-e", "io.write(tostring(cnn.ones(2, 3) * 2))" })
    assert.are.equal(0, rc, err)
    assert.truthy(expected:find("2×3", 1, true) or expected:find("2x3", 1, true),
      "the shape 2×3 is not shown: " .. expected)
    local twos = 0
    for number in expected:gmatch("[%d%.]+") do
      if number:match("^2%.?0*$") then twos = twos + 1 end
    end
    assert.truthy(twos >= 6, "six elements equal to 2 are not shown: " .. expected)
    local term = start()
    term:type("x = cnn.ones(2, 3)")
    term:type("x * 2")
    local at = term:wait_for_line("> x * 2")
    for line in (expected .. "\n"):gmatch("([^\n]*)\n") do
      term:wait_for_line(line, at)
    end
  end)

  local CONV_LINE = "Conv(kernel, cin, cout [, act] [, opts])  -- 2-D convolution layer; help(cnn.Conv) for more"

  it("shows help for ?name and help(x), and a function as its signature", function()
    local term = start()
    term:type("?cnn.Conv")
    local at = term:wait_for_line("Conv(kernel, cin, cout [, act] [, opts]): 2-D convolution layer, as")
    at = term:wait_for_line("  kernel  {kw, kh}", at)
    at = term:wait_for_line("Example:", at)
    term:wait_for_line("  cnn.Conv({3, 3}, 1, 16, cnn.relu, {pad = 1})", at)
    term:type("help(cnn.ADAM)")
    at = term:wait_for_line("> help(cnn.ADAM)", at)
    term:wait_for_line("  eta   (optional, default 0.001) the learning rate", at)
    term:type("cnn.Conv")
    at = term:wait_for_line("> cnn.Conv", at)
    term:wait_for_line(CONV_LINE, at)
    term:type("help()")
    at = term:wait_for_line("> help()", at)
    term:wait_for_line("  losses      crossentropy logitcrossentropy binarycrossentropy logitbinarycrossentropy"
      .. " mse", at)
    term:type("?no_such_name")
    term:wait_for_line('help: no entry named "no_such_name"; help() lists the library, help("name") finds by name', at)
  end)

  it("completes names, table fields and methods on Tab, and indents a blank line", function()
    local term = start()
    term:tmux("send-keys -t repl -l " .. quote("cnn.Con"))
    term:key("Tab")
    local at = term:wait_for_line("> cnn.Conv")
    term:key("Enter")
    term:wait_for_line(CONV_LINE, at)
    term:type("x = cnn.ones(3)")
    term:tmux("send-keys -t repl -l " .. quote("x:res"))
    term:key("Tab")
    at = term:wait_for_line("> x:reshape(", at)
    term:tmux("send-keys -t repl -l " .. quote("1, 3):size(2)"))
    term:key("Enter")
    at = term:wait_for_line("> x:reshape(1, 3):size(2)", at)
    term:wait_for_line("3", at)
    term:type("m = cnn.Chain(cnn.Dense(2, 2))")
    term:tmux("send-keys -t repl -l " .. quote("m."))
    term:key("Tab")
    term:wait_for_line("m.layers", at, true)
    term:key("C-u")
    term:key("Tab")
    term:tmux("send-keys -t repl -l " .. quote("print('indented')"))
    term:key("Enter")
    term:wait_for_line(">       print('indented')", at)
    term:wait_for_line("indented", at)
  end)

  -- Ctrl-C during tensor work: the interrupt comes back as an error at the
  -- prompt, the session's variables keep their values, and the pane lives.
  -- (spec/interrupt_spec.lua does the same to scripts, hundreds of times.)

  --- Types a line that prints 'marker', then runs 'work'; returns the
  -- number of the marker's line once it shows.
  local function start_work(term, marker, work, from)
    term:type(("print('%s') %s"):format(marker, work))
    return term:wait_for_line(marker, from)
  end

  --- After an interrupt: the message, then the variables as they were.
  -- Landing in the library (cnn.matmul), the message names the prompt's
  -- line, "interrupted at stdin:1 (your line)"; landing in the loop
  -- itself, it is "stdin:1: interrupted!" and a traceback.
  local function expect_intact(term, from)
    local at = term:wait_for_line("cnnlua: ", from, true)
    local message = term:lines()[at]
    assert.truthy(message:find("cnnlua: interrupted at stdin:1 (your line)", 1, true)
      or message:find("cnnlua: stdin:1: interrupted!", 1, true), message)
    term:type("print('kept', kept, a:size(1), a:sum() == a_sum)")
    at = term:wait_for_line("kept    42      400     true", at)
    assert.truthy(term:alive())
    return at
  end

  it("comes back from Ctrl-C in a loop of matrix products, again and again", function()
    local term = start()
    -- one thread: the JIT kernels of the product run on the main thread
    term:type("cnn.core.threads(1) kept = 41 + 1 a = cnn.rand(400, 400) a_sum = a:sum()")
    local at = 1
    for round = 1, 4 do
      at = start_work(term, "looping " .. round, "for i = 1, 1e9 do local y = cnn.matmul(a, a) end", at)
      os.execute(("sleep %.2f"):format(0.05 * round))
      term:key("C-c")
      at = expect_intact(term, at)
    end
  end)

  it("takes two quick Ctrl-C during one long C call as one interrupt", function()
    local term = start()
    -- a product of two 3000×3000 matrices takes a second or so: both keys
    -- arrive while it runs, and the interrupt comes when it returns
    term:type("kept = 42 a = cnn.rand(400, 400) a_sum = a:sum() b = cnn.rand(3000, 3000)")
    local at = 1
    for round = 1, 3 do
      at = start_work(term, "multiplying " .. round, "c = cnn.matmul(b, b) print('finished')", at)
      term:key("C-c")
      term:key("C-c")
      local done = expect_intact(term, at)
      assert.is_nil(term:find_line("finished", at), "the chunk ran on after the interrupt")
      at = done
    end
  end)

  it("shows a long array of tensors as one summary line", function()
    local term = start()
    term:type("cnn.params(cnn.Chain(cnn.Dense(2, 2), cnn.Dense(2, 2), cnn.Dense(2, 2)))")
    term:wait_for_line("6 arrays, 18 numbers: 2×2 Float32, 2 Float32, 2×2 Float32, …")
    term:type("cnn.params(cnn.Dense(2, 2))")
    local at = term:wait_for_line("{2×2 Tensor{Float32,2}:", 1, true)
    assert.is_nil(term:find_line("2 arrays", at, true))
  end)

  it("prints each line's time and allocations after its values with .time on", function()
    local term = start()
    term:type(".time on")
    term:type("cnn.zeros(1000):numel()")
    local at = term:wait_for_line("1000")
    local timed = term:wait_for_line(" seconds (", at, true)
    assert.are.equal(at + 1, timed)
    assert.truthy(term:lines()[timed]:find("^%s+%d+%.%d+ seconds %(%d+ allocations?: [%d.]+ [KM]?i?B%)$"),
      term:lines()[timed])
    term:type(".time off")
    term:type("40 + 2")
    at = term:wait_for_line("42", timed)
    term:type("print('after')")
    term:wait_for_line("after", at)
    assert.is_nil(term:find_line(" seconds (", timed + 1, true))
  end)

  it("lists the prompt commands on .help and rejects unknown ones", function()
    local term = start()
    term:type(".help")
    term:wait_for_line("  .time on    print each line's wall time and tensor allocations after it")
    term:type(".nonsense")
    term:wait_for_line("cnnlua: unknown prompt command '.nonsense'; the prompt knows:")
    term:type(".5 + 1")
    term:wait_for_line("1.5")
  end)

  it("names the prompt's line, not the library's, when Ctrl-C lands in cnn.train", function()
    local term = start()
    term:type("m = cnn.Chain(cnn.Dense(784, 256, cnn.relu), cnn.Dense(256, 10))"
      .. " loader = cnn.DataLoader(cnn.rand(784, 1024), cnn.rand(10, 1024), {batchsize = 64})")
    term:type("print('training') cnn.train(function(a, b) return cnn.mse(m(a), b) end, cnn.params(m),"
      .. " cnn.ncycle(loader, 100000), cnn.Adam(), {progress = false})")
    local at = term:wait_for_line("training")
    os.execute("sleep 0.5")
    term:key("C-c")
    at = term:wait_for_line("cnnlua: interrupted at stdin:1 (your line)", at, true)
    term:type("print('alive', #cnn.params(m))")
    term:wait_for_line("alive   4", at)
    for _, line in ipairs(term:lines()) do
      assert.falsy(line:find("lua/cnn", 1, true), line)
    end
  end)
end)
