--- Help at the prompt and in scripts, from the doc comments (cnn.docs):
-- the text `help(x)` prints is the one LDoc renders into the reference.
--
-- `help(x)` finds the entry of a public function, layer, optimiser,
-- loss, data set or module of `cnn` by value, of a tensor or a layer by
-- its type, of a tensor method by value, and of any of them by name
-- ("Conv", "cnn.Conv", "Tensor:reshape", "x:reshape", "reshape").
-- @module cnn.help

local docs = require "cnn.docs"

local help = {}

-- The short map of the library that `help()` prints: a line per section
-- with its main names, each a documented public name (spec/help_spec.lua).
local MAP = {
  {"tensors", "zeros ones rand randn tensor range fill copy reshape matmul sum mean argmax isapprox",
    "t:size t:reshape t:slice t:item t:totable"},
  {"layers", "Chain Dense Conv DepthwiseConv ConvTranspose MaxPool MeanPool GlobalMeanPool AdaptiveMeanPool"
    .. " Upsample Dropout BatchNorm LayerNorm GroupNorm InstanceNorm Embedding Flatten SkipConnection Parallel"},
  {"activations", "relu sigmoid tanh softmax logsoftmax leakyrelu elu gelu softplus"},
  {"losses", "crossentropy logitcrossentropy binarycrossentropy logitbinarycrossentropy mse"},
  {"optimisers", "Descent Momentum Nesterov RMSProp ADAM AdamW update"},
  {"training", "gradient withgradient params train stop precision trainmode testmode loadparams savemodel"
    .. " loadmodel quantize"},
  {"data", "datasets.MNIST datasets.FashionMNIST DataLoader ncycle onehotbatch onecold"},
  {"jobs", "distributed.rank distributed.size distributed.allreduce distributed.broadcast train"},
  {"display", "show summary repr showimage imagestring accuracy confusion profile time throttle"},
}
help.MAP = MAP

local function cnn() return require "cnn" end

-- The metatable of x, read without running user code.
local function metatable(x)
  local ok, mt = pcall(debug.getmetatable, x)
  return ok and type(mt) == "table" and mt or nil
end

local function is_tensor(x)
  return metatable(x) == cnn().Tensor
end

-- The layer class name of a layer instance, or nil; a class documented
-- under another name (the quantized model, under quantize) gives it as
-- its `doc`.
local function class_name(x)
  local mt = metatable(x)
  local name = mt and (rawget(mt, "doc") or rawget(mt, "name"))
  return type(name) == "string" and docs.entries()[name] and name or nil
end

-- The entry of a method name such as "reshape" on a value (a tensor or a
-- layer), or on either when the value is unknown.
local function method_entry(owner, method)
  local entries = docs.entries()
  if owner == nil or is_tensor(owner) then
    if entries["Tensor:" .. method] then return entries["Tensor:" .. method] end
  end
  local class = class_name(owner)
  if class and entries[class .. ":" .. method] then return entries[class .. ":" .. method] end
  if owner == nil or class then return entries["Layer:" .. method] end
  return nil
end

-- The entry of a name, as typed: "Conv", "cnn.Conv", "Tensor:reshape",
-- "x:reshape" (x a global tensor or layer), "reshape".
local function by_name(name)
  local entries = docs.entries()
  name = name:gsub("^%s+", ""):gsub("%s+$", ""):gsub("%(%)$", "")
  local plain = name:gsub("^cnn%.", "")
  if entries[plain] then return entries[plain] end
  local value = rawget(cnn(), plain) -- ADAM, documented as Adam
  if value ~= nil and docs.lookup(value) then return docs.lookup(value) end
  local owner, method = plain:match("^([%w_]+)[:%.]([%w_]+)$")
  if owner then
    local e = method_entry(rawget(_G, owner), method)
    if e then return e end
  end
  return method_entry(nil, plain)
end

-- The entry documenting x, or nil.
local function find(x)
  if type(x) == "string" then return by_name(x) end
  if x == rawget(_G, "help") then return docs.entries().help end
  local e = docs.lookup(x)
  if e then return e end
  if is_tensor(x) then return docs.entries().Tensor end
  local class = class_name(x)
  if class then return docs.entries()[class] end
  if type(x) == "function" then
    for name, f in pairs(cnn().Tensor.methods) do
      if f == x then return docs.entries()["Tensor:" .. name] end
    end
  end
  return nil
end

-- The call a description starts with when it names the entry itself
-- ("Conv(kernel, ...)", "ADAM(eta = ...)" for Adam, "t:reshape(sizes...)"),
-- or nil ("max(x, 0)" for relu is a formula, not a call).
local function leading_call(e)
  local lead = e.description:match("^([%w_%.:]+%b())")
  local last = e.name:match("([%w_]+)$")
  local called = lead and lead:match("([%w_]+)%(")
  if called and last and called:lower() == last:lower() then return lead end
  return nil
end

-- The words of text on lines of at most width characters, each line
-- after the first starting with prefix.
local function wrap(text, width, prefix)
  local lines, line = {}, nil
  for word in text:gmatch("%S+") do
    if line and utf8.len(line) + 1 + (utf8.len(word) or #word) > width then
      lines[#lines + 1] = line
      line = prefix .. word
    else
      line = line and line .. " " .. word or word
    end
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n")
end

-- The description without the call it starts with.
local function description_body(e)
  local lead = leading_call(e)
  if not lead then return e.description end
  return (e.description:sub(#lead + 1):gsub("^[%s,:;%.]+", ""))
end

-- The name to write in `help(...)` for an entry.
local function help_call(e)
  if e.name:find(":", 1, true) then return ("help(%q)"):format(e.name) end
  return "help(cnn." .. e.name .. ")"
end

--- The signature of a documented name: the call its description starts
-- with ("Conv(kernel, cin, cout [, act] [, opts])"), else one made from
-- its parameters, optional ones in brackets.
-- @param e an entry of cnn.docs
-- @return a string
-- @usage help.signature(require("cnn.docs").lookup("relu")) --> "relu(x)"
function help.signature(e)
  local lead = leading_call(e)
  if lead then return lead end
  local name = e.name:gsub("^Tensor:", "t:"):gsub("^Layer:", "layer:")
  if e.kind == "table" then return name end
  local parts = {}
  for i, p in ipairs(e.params) do
    local sep = i > 1 and ", " or ""
    parts[i] = p.optional and ("[" .. sep .. p.name .. "]") or sep .. p.name
  end
  return name .. "(" .. table.concat(parts, " "):gsub(" ,", ","):gsub("%] %[", "] [") .. ")"
end

-- The text up to the first of . , ; : that is followed by a space and
-- outside brackets and `code`.
local function first_clause(text)
  local depth, code = 0, false
  for i = 1, #text do
    local c = text:sub(i, i)
    if c == "`" then code = not code
    elseif c == "(" or c == "{" or c == "[" then depth = depth + 1
    elseif c == ")" or c == "}" or c == "]" then depth = math.max(depth - 1, 0)
    elseif depth == 0 and not code and c:match("[%.,;:]") and text:sub(i + 1, i + 1) == " " then
      return text:sub(1, i - 1)
    end
  end
  return (text:gsub("%.$", ""))
end

-- The first clause of the description after its signature, on one line.
local function summary(e)
  local text = description_body(e):gsub("%s+", " ")
  -- "ADAM(...), also `Adam`: m = ..." says its other name first
  text = text:gsub("^also `[%w_]+`[,:;%.]? *", "")
  local clause = first_clause(text)
  if #clause > 60 then clause = clause:sub(1, 57):gsub("%s*%S*$", "") .. "…" end
  return clause
end

--- One line for a documented value, as the prompt shows it: its signature,
-- a summary and how to read more; nil for a value without an entry.
-- @param x a value, such as cnn.Conv
-- @return a string, or nil
-- @usage print(require("cnn.help").line(cnn.relu))
function help.line(x)
  local ok, e = pcall(find, x)
  if not ok or e == nil then return nil end
  local text = summary(e)
  return ("%s  -- %s%s for more"):format(help.signature(e), text == "" and "" or text .. "; ", help_call(e))
end

local function indent(text, prefix)
  return prefix .. text:gsub("\n", "\n" .. prefix)
end

-- The parameter lines of an entry.
local function parameters(e, out)
  if #e.params == 0 then return end
  out[#out + 1] = "Parameters:"
  local width = 0
  for _, p in ipairs(e.params) do width = math.max(width, #p.name) end
  for _, p in ipairs(e.params) do
    local note = p.default and ("(optional, default " .. p.default .. ") ")
      or p.optional and "(optional) " or ""
    local text = (note .. p.text):gsub("\n%s*", " "):gsub("%s+$", "")
    out[#out + 1] = (("  %-" .. width .. "s  %s"):format(p.name, text):gsub("%s+$", ""))
  end
end

--- The help text of a documented value or name: signature, description,
-- parameters with their defaults, what it returns and its example.
-- @param x a value (cnn.Conv, a tensor, a layer, a tensor method) or a
-- name ("Conv", "Tensor:reshape")
-- @return the text, or nil and a message saying why there is none
-- @usage print(require("cnn.help").text("Dense"))
function help.text(x)
  local e = find(x)
  if e == nil then
    local what = type(x) == "string" and ("no entry named %q"):format(x)
      or ("no documentation for %s (a %s)"):format(tostring(x), type(x))
    return nil, "help: " .. what .. "; help() lists the library, help(\"name\") finds by name"
  end
  -- a description that starts with the call is shown as written
  local head = leading_call(e) and e.description or help.signature(e) .. "\n\n" .. e.description
  local out = {head, ""}
  parameters(e, out)
  for _, r in ipairs(e["return"] or {}) do
    out[#out + 1] = "Returns: " .. r.text:gsub("\n%s*", " ")
  end
  for i, u in ipairs(e.usage or {}) do
    out[#out + 1] = i == 1 and "Example:" or ""
    out[#out + 1] = indent(u.text, "  ")
  end
  if is_tensor(x) or e.name == "Tensor" then
    local names = {}
    for name in pairs(cnn().Tensor.methods) do names[#names + 1] = name end
    table.sort(names)
    out[#out + 1] = "Methods (help(\"Tensor:name\")): " .. table.concat(names, " ")
  end
  out[#out + 1] = "Source: " .. (e.source:match("(cnn/.*)$") or e.source)
  return table.concat(out, "\n")
end

--- The short map of the library: a line per section with its main names.
-- @return the text
-- @usage print(require("cnn.help").map())
function help.map()
  local out = {"cnn: tensors, layers, training and data in Lua (help(x) or ?x for one name)"}
  for _, section in ipairs(MAP) do
    local names = table.concat(section, " ", 2)
    out[#out + 1] = ("  %-11s "):format(section[1]) .. wrap(names, 82, (" "):rep(14))
  end
  out[#out + 1] = "Tensor methods: help(cnn.Tensor); a layer's: help(layer); by name: help(\"reshape\")"
  return table.concat(out, "\n")
end

--- Prints the documentation of x (see cnn.help.text), or the map of the
-- library when x is nil or cnn itself; a value without documentation
-- gets a message saying so.
-- @function help
-- @param[opt] x a public value, a tensor, a layer or a name
-- @usage cnn.help(cnn.Conv)
-- help("Tensor:reshape")
function help.help(x)
  if x == nil or x == cnn() then
    print(help.map())
    return
  end
  local text, why = help.text(x)
  print(text or why)
end

--- The text after a `?` at the prompt: `?cnn.Conv` is `help(cnn.Conv)`.
-- An expression is evaluated as it would be at the prompt; a name that is
-- not one (`?x:reshape`, `?Conv`) is looked up by name.
-- @param text what follows the `?`
-- @usage require("cnn.help").query("cnn.Conv")
function help.query(text)
  text = text:gsub("^%s+", ""):gsub("%s+$", "")
  if text == "" then return help.help() end
  local chunk = load("return " .. text, "=?", "t")
  if chunk then
    local ok, value = pcall(chunk)
    if ok and value ~= nil then return help.help(value) end
  end
  return help.help(text)
end

return help
