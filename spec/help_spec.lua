-- Help from the doc comments (cnn.help) and completion at the prompt
-- (cnn.complete); the prompt itself is driven in spec/host_spec.lua.

local cnn = require "cnn"
local docs = require "cnn.docs"
local help = require "cnn.help"
local complete = require "cnn.complete"

-- What print writes while f runs.
local function printed(f)
  local out, saved = {}, _G.print
  _G.print = function(...)
    local parts = table.pack(...)
    for i = 1, parts.n do parts[i] = tostring(parts[i]) end
    out[#out + 1] = table.concat(parts, "\t")
  end
  local ok, e = pcall(f)
  _G.print = saved
  assert(ok, e)
  return table.concat(out, "\n")
end

-- Every public name as docs_spec lists them: the fields of cnn and of
-- cnn.datasets, the tensor methods and the methods every layer has.
local function public_names()
  local names = {}
  for name in pairs(cnn) do names[#names + 1] = name end
  for name in pairs(cnn.datasets) do names[#names + 1] = "datasets." .. name end
  for name in pairs(cnn.Tensor.methods) do names[#names + 1] = "Tensor:" .. name end
  for name in pairs(docs.entries()) do
    if name:match("^Layer:") or name:match("^Chain:") then names[#names + 1] = name end
  end
  table.sort(names)
  return names
end

describe("help", function()
  it("has a text for every public name, by name and by value", function()
    local missing, n = {}, 0
    for _, name in ipairs(public_names()) do
      n = n + 1
      local text = help.text(name)
      if not text then
        missing[#missing + 1] = name .. ": no text"
      elseif not text:find("Source: cnn/", 1, true) then
        missing[#missing + 1] = name .. ": no source line"
      end
      local value = name:find(":", 1, true) and cnn.Tensor.methods[name:match(":(.*)")]
        or (name:match("^datasets%.") and cnn.datasets[name:sub(10)] or cnn[name])
      if value and not help.text(value) then missing[#missing + 1] = name .. ": none by value" end
    end
    assert.are.equal("", table.concat(missing, "\n"))
    assert.is_true(n >= 200, "only " .. n .. " names")
  end)

  it("shows the signature, the parameters with their defaults and an example", function()
    local conv = help.text(cnn.Conv)
    assert.are.equal("Conv(kernel, cin, cout [, act] [, opts]): 2-D convolution layer", conv:sub(1, 63))
    assert.truthy(conv:find("\n  kernel  {kw, kh}\n", 1, true), conv)
    assert.truthy(conv:find("\nExample:\n  cnn.Conv({3, 3}, 1, 16, cnn.relu, {pad = 1})\n", 1, true), conv)
    local adam = help.text(cnn.ADAM)
    assert.truthy(adam:find("\n  eta   (optional, default 0.001) the learning rate\n", 1, true), adam)
    assert.truthy(help.text(cnn.relu):find("^relu%(x%)\n\nmax%(x, 0%)\n"))
  end)

  it("finds a name as typed at the prompt", function()
    local reshape = help.text("Tensor:reshape")
    assert.truthy(reshape:find("^t:reshape%(sizes%.%.%.%): the same elements"), reshape)
    assert.are.equal(help.text(cnn.Conv), help.text("cnn.Conv"))
    assert.are.equal(help.text(cnn.Conv), help.text("Conv"))
    assert.are.equal(reshape, help.text("size") and help.text("Tensor:reshape"))
    assert.are.equal(help.text("Tensor:size"), help.text("size"))
    assert.are.equal(help.text("Layer:parameters"), help.text("parameters"))
  end)

  it("documents a tensor and a layer by their type, and a method by value", function()
    local t = help.text(cnn.ones(2))
    assert.truthy(t:find("^Tensor\n\nThe Tensor metatable"), t)
    assert.truthy(t:find("Methods (help(\"Tensor:name\")): abs add", 1, true), t)
    assert.are.equal(help.text(cnn.Dense), help.text(cnn.Dense(2, 3)))
    assert.are.equal(help.text(cnn.Chain), help.text(cnn.Chain(cnn.Dense(2, 2))))
    assert.are.equal(help.text("Tensor:sum"), help.text(cnn.Tensor.methods.sum) and help.text("Tensor:sum"))
    assert.truthy(help.text(cnn.Tensor.methods.size):find("^t:size"))
  end)

  it("says clearly that a value or a name has no documentation", function()
    local text, why = help.text(function() end)
    assert.is_nil(text)
    assert.truthy(why:find("^help: no documentation for function: 0x%x+ %(a function%); help%(%) lists"), why)
    text, why = help.text("Convv")
    assert.is_nil(text)
    assert.are.equal('help: no entry named "Convv"; help() lists the library, help("name") finds by name', why)
    assert.are.equal(why, printed(function() cnn.help("Convv") end))
    assert.is_nil(help.text(42))
  end)

  it("prints through cnn.help and the ? form the same text", function()
    local expected = help.text(cnn.ADAM)
    assert.are.equal(expected, printed(function() cnn.help(cnn.ADAM) end))
    assert.are.equal(expected, printed(function() help.query(" cnn.ADAM ") end))
    rawset(_G, "help_spec_x", cnn.ones(2))
    local ok, e = pcall(function()
      assert.are.equal(help.text("Tensor:reshape"), printed(function() help.query("help_spec_x:reshape") end))
    end)
    rawset(_G, "help_spec_x", nil)
    assert(ok, e)
  end)

  it("prints a map of the library whose every name is documented", function()
    local map = printed(function() cnn.help() end)
    assert.are.equal(map, printed(function() help.query("") end))
    assert.are.equal(map, help.map())
    for _, section in ipairs{"tensors", "layers", "losses", "optimisers", "training", "data", "display"} do
      assert.truthy(map:find("\n  " .. section .. " +%S"), section .. " is not in the map:\n" .. map)
    end
    for _, section in ipairs(help.MAP) do
      for i = 2, #section do
        for name in section[i]:gmatch("%S+") do
          assert.is_not_nil(help.text((name:gsub("^t:", "Tensor:"))), name)
        end
      end
    end
  end)

  it("gives the line the prompt shows for a documented function", function()
    assert.are.equal("Conv(kernel, cin, cout [, act] [, opts])  -- 2-D convolution layer; help(cnn.Conv) for more",
      help.line(cnn.Conv))
    assert.are.equal("relu(x)  -- max(x, 0); help(cnn.relu) for more", help.line(cnn.relu))
    assert.are.equal('t:item()  -- the element of a one-element tensor as a number (a loss,…; help("Tensor:item")'
      .. " for more", help.line(cnn.Tensor.methods.item))
    assert.is_nil(help.line(print))
  end)
end)

describe("completion", function()
  it("completes globals and the fields of tables", function()
    local env = {cnn = cnn, print = print, pairs = pairs}
    assert.are.same({"cnn.Conv", "cnn.ConvTranspose"}, complete.words("cnn.Con", env))
    assert.are.same({"cnn.datasets.MNIST"}, complete.words("cnn.datasets.M", env))
    assert.are.same({"pairs", "print"}, complete.words("p", env))
    assert.are.same({}, complete.words("cnn.nothing.x", env))
    assert.are.same({}, complete.words("cnn.Conv(", env))
  end)

  it("completes the methods of tensors and layers after a colon", function()
    local env = {x = cnn.ones(2), d = cnn.Dense(2, 2), m = cnn.Chain(cnn.Dense(2, 2)), s = "text"}
    assert.are.same({"x:reshape("}, complete.words("x:res", env))
    assert.are.same({"d:parameters("}, complete.words("d:par", env))
    assert.are.same({"m:parameters("}, complete.words("m:par", env))
    assert.are.same({"s:upper("}, complete.words("s:up", env))
    local fields = complete.words("m.", env)
    assert.truthy(#fields > 0)
    for _, f in ipairs{"m.layers", "m.forward"} do
      assert.is_true(fields[1] ~= nil and table.concat(fields, " "):find(f, 1, true) ~= nil, f)
    end
    local dense = table.concat(complete.words("d.", env), " ")
    assert.truthy(dense:find("d.weight", 1, true) and dense:find("d.bias", 1, true), dense)
  end)

  it("runs no user code: no __index function, no __pairs, no __metatable", function()
    local called = {}
    local trap = setmetatable({plain = 1}, {
      __index = function(_, k) called[#called + 1] = "__index " .. tostring(k) end,
      __pairs = function() called[#called + 1] = "__pairs" end,
      __metatable = "locked",
    })
    local base = {inherited = 2}
    local child = setmetatable({own = 3}, {__index = setmetatable({middle = 4}, {__index = base})})
    local loop = {}
    setmetatable(loop, {__index = loop})
    local env = {trap = trap, child = child, loop = loop, [1] = "no name", ["not a name"] = 0}
    assert.are.same({"trap.plain"}, complete.words("trap.", env))
    assert.are.same({}, complete.words("trap.x.y", env))
    assert.are.same({"child.inherited", "child.middle", "child.own"}, complete.words("child.", env))
    assert.are.same({}, complete.words("loop.", env))
    assert.are.same({"child", "loop", "trap"}, complete.words("", env))
    assert.are.same({}, called)
  end)
end)
