--- Saving and loading a model's state (its parameters and running
-- statistics) as a safetensors file: data only, nothing executed on load.
--
-- The architecture stays in the script that builds the model: build it,
-- then `cnn.loadmodel(path, model)` fills it. Tensors are named by their
-- position in the model ("state.1", "state.2", ...) in the order of
-- `cnn.params` followed by the non-trainable tensors (BatchNorm's running
-- mean and variance); the file's metadata keeps the printed model for
-- people.
--
-- A save writes a temporary file beside the target, syncs it and renames
-- it over the target, so a crash never leaves half a file; the target
-- keeps its permissions, and temporary files that a killed save left
-- behind are removed by the next save of the same file. The same state
-- always gives the same bytes. A load checks the whole file (see
-- src/core/safetensors.h) and every name, type and size against the
-- model before it copies anything, so a failed load leaves the model
-- untouched.
-- @module cnn.checkpoint

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"
local errors = require "cnn.errors"
local tensorcheck = require "cnn.tensorcheck"
local models = require "cnn.layers.models"
local walk = require "cnn.layers.walk"

local shape, is_tensor = tensorcheck.shape, tensorcheck.is_tensor

-- The trainable tensors, then the non-trainable ones (BatchNorm's
-- running statistics), each once, in the order of the model's walk.
local function state(model)
  local list = models.params(model)
  for _, t in ipairs(walk.nontrainable(model, "params")) do list[#list + 1] = t end
  return list
end

local function name(i) return "state." .. i end

-- A printed value on one line, without the comments a model prints:
-- "Chain(\n  flatten,\n)  # Total: ..." becomes "Chain(flatten)".
local function one_line(text)
  text = text:gsub("%s*#[^\n]*", ""):gsub("%s*\n%s*", " "):gsub("%( ", "("):gsub(",? %)", ")")
  return #text > 80 and text:sub(1, 77) .. "..." or text
end

-- What a value that is not a model is, for messages: "nil", "the
-- number 42", "ADAM(0.001, (0.9, 0.999)), which has no parameters".
local function describe(v)
  local kind = type(v)
  if kind == "nil" or kind == "boolean" then return tostring(v) end
  if kind == "number" then return "the number " .. tostring(v) end
  if kind == "string" then return ("the string %q"):format(v) end
  if is_tensor(v) then return ("a tensor (%s)"):format(shape(v)) end
  if kind ~= "table" then return "a " .. kind end
  local mt = getmetatable(v)
  local ok, text = pcall(tostring, v)
  if not (ok and type(mt) == "table" and mt.__tostring and type(text) == "string") then
    text = "a table"
  end
  return one_line(text) .. ", which has no parameters"
end

-- The state tensors of `model`; raises, naming `fname`, for anything
-- that has none (nil from a misspelt name, an optimiser, a number...).
local function check_model(fname, model)
  local list = type(model) == "table" and argcheck.is_callable(model) and state(model) or {}
  if #list == 0 then
    errors.raise(("%s: expected a model (a layer or Chain with parameters), got %s"):format(
      fname, describe(model)))
  end
  for i, t in ipairs(list) do
    if t:isfreed() then
      errors.raise(("%s: the model's tensor %d was freed"):format(fname, i))
    end
  end
  return list
end

local function check_path(fname, path)
  if type(path) ~= "string" then
    errors.raise(("%s: path must be a string, got %s"):format(fname, describe(path)))
  end
  if path == "" then errors.raise(fname .. ": path is empty") end
  if path:find("\0", 1, true) then
    errors.raise(("%s: path %q contains a NUL byte"):format(fname, path))
  end
end

-- A cnn.core error under the user's name for the call: with fname
-- "loadmodel", "load_safetensors: m.st: ..." becomes "loadmodel: m.st: ...".
local function renamed(fname, e)
  local msg = tostring(e)
  return fname .. ": " .. (msg:match("^[%w_]+_safetensors: (.*)$") or msg)
end

--- Writes the state of `model` to `path` (a .safetensors file),
-- atomically: the old file stays whole until the new one is complete.
-- The same state gives the same bytes. Anything that is not a model
-- with parameters (nil, a number, an optimiser, ...) is refused.
-- @param path the file to write
-- @param model a layer or Chain
-- @usage cnn.savemodel("mnist.safetensors", model)
-- @function savemodel
local function savemodel(path, model)
  check_path("savemodel", path)
  local tensors = {}
  for i, t in ipairs(check_model("savemodel", model)) do tensors[name(i)] = t end
  local meta = {format = "cnnlua model state", model = tostring(model)}
  local ok, e = pcall(core.save_safetensors, path, tensors, meta)
  if not ok then errors.raise(renamed("savemodel", e)) end
end

local function check_load_options(opts)
  if opts == nil then return true end
  if type(opts) ~= "table" then
    errors.raise("loadmodel: options must be a table such as {finite = false}, got "
      .. describe(opts))
  end
  for k, v in pairs(opts) do
    if k ~= "finite" then
      errors.raise(("loadmodel: unknown option %s (the option is finite)"):format(tostring(k)))
    end
    if type(v) ~= "boolean" then
      errors.raise("loadmodel: finite must be true or false, got " .. describe(v))
    end
  end
  return opts.finite ~= false
end

local function read_checked(path, finite)
  local ok, result = pcall(core.load_safetensors, path, {finite = finite})
  if ok then return result end
  local msg = renamed("loadmodel", result)
  if msg:find("holds a non-finite value", 1, true) then
    msg = msg .. " (loadmodel(path, model, {finite = false}) accepts non-finite weights)"
  end
  errors.raise(msg)
end

-- Every tensor of the model has its counterpart in the file, of the
-- same type and sizes; raises naming the first that has not.
local function check_matches(path, tensors, targets)
  local count = 0
  for _ in pairs(tensors) do count = count + 1 end
  if count ~= #targets then
    errors.raise(("loadmodel: %s holds %d tensors, the model has %d"):format(
      path, count, #targets))
  end
  for i, t in ipairs(targets) do
    local saved = tensors[name(i)]
    if not saved then errors.raise(("loadmodel: %s has no tensor %s"):format(path, name(i))) end
    if shape(saved) ~= shape(t) then
      errors.raise(("loadmodel: tensor %d is %s in the model but %s in %s"):format(
        i, shape(t), shape(saved), path))
    end
    if saved:dtype() ~= t:dtype() then
      errors.raise(("loadmodel: tensor %d is %s in the model but %s in %s"):format(
        i, t:dtype(), saved:dtype(), path))
    end
  end
end

--- Reads a state written by `savemodel` into `model`, which must have the
-- same architecture. The whole file and every name, type and size are
-- checked before anything is copied: a failed load leaves the model as
-- it was. Weights that are NaN or infinite are refused, naming the
-- tensor, unless `opts.finite` is false.
-- @param path the file to read
-- @param model a layer or Chain of the architecture that was saved
-- @param[opt] opts `{finite = false}` accepts NaN and infinite weights
-- @return the model
-- @usage local model = cnn.loadmodel("mnist.safetensors", build_model())
-- @function loadmodel
local function loadmodel(path, model, opts)
  check_path("loadmodel", path)
  local targets = check_model("loadmodel", model)
  local tensors = read_checked(path, check_load_options(opts))
  check_matches(path, tensors, targets)
  for i, t in ipairs(targets) do t:copy(tensors[name(i)]) end
  return model
end

-- savemodel and loadmodel are public; the rest is for cnn.resume.
return {
  savemodel = savemodel, loadmodel = loadmodel,
  state = state, check_model = check_model, check_path = check_path,
  describe = describe, renamed = renamed,
}
