--- Resumable checkpoints: everything a training needs to go on as if it
-- had not stopped, in one safetensors file.
--
-- `savecheckpoint(path, {model = m, opt = opt, loader = loader, step =
-- 100})` keeps the model's parameters and BatchNorm running statistics
-- ("model.1", ... in the order of cnn.savemodel), the optimiser's
-- hyperparameters and state per parameter (cnn.resume.optimiser), the
-- random generator's state ("rng.seed", "rng.counter": dropout, the
-- shuffles of loaders without their own seed), the loader's position in
-- its current pass (cnn.resume.loader) and any other field given, a
-- number, string or boolean ("user.step"). The write is atomic, as
-- cnn.savemodel's. `loadcheckpoint` checks every entry against the
-- objects given before it changes any of them, and refuses a file with
-- entries it does not use: a failed load leaves everything as it was.
--
-- A training stopped after step k, saved, and loaded into a new process
-- that builds the same model, optimiser and loader goes on with exactly
-- the numbers the uninterrupted training would have had (at the same
-- thread count).
-- @module cnn.resume

local core = require "cnn.core"
local argcheck = require "cnn.argcheck"
local errors = require "cnn.errors"
local checkpoint = require "cnn.checkpoint"
local models = require "cnn.layers.models"
local kind = require "cnn.optimisers.kind"
local data = require "cnn.data"
local values = require "cnn.resume.values"
local entries_of = require "cnn.resume.entries"
local optimiser_part = require "cnn.resume.optimiser"
local loader_part = require "cnn.resume.loader"

local FORMAT = "cnnlua checkpoint"
local objects = {model = true, opt = true, loader = true}

-- The table of objects, checked: a model, and an optimiser and loader
-- when given.
local function check_objects(fname, parts)
  if type(parts) ~= "table" or getmetatable(parts) ~= nil then
    argcheck.fail(fname, "the second argument", "a table such as {model = m, opt = opt, loader = loader}", parts)
  end
  local targets = checkpoint.check_model(fname, parts.model)
  if parts.opt ~= nil and not kind.is_optimiser(parts.opt) then
    argcheck.fail(fname, "opt", "an optimiser such as cnn.ADAM()", parts.opt)
  end
  if parts.loader ~= nil and not data.is_loader(parts.loader) then
    argcheck.fail(fname, "loader", "a cnn.DataLoader", parts.loader)
  end
  return targets
end

-- The user's values among the fields of parts, checked.
local function user_values(parts)
  local user = {}
  for k, v in pairs(parts) do
    if not objects[k] then
      if type(k) ~= "string" or k:find("\0", 1, true) then
        argcheck.fail("savecheckpoint", "a field name", "a string", k)
      end
      if not values.storable(v) then
        argcheck.fail("savecheckpoint", k, "a number, a string or a boolean (model, opt and loader "
          .. "are the objects a checkpoint saves)", v)
      end
      user[k] = v
    end
  end
  return user
end

--- Writes a checkpoint: the model's state, the optimiser's, the random
-- generator's, the loader's position and the other fields of `parts`
-- (numbers, strings, booleans such as `step`), atomically. Only `model`
-- is required.
-- @param path the file to write (.safetensors)
-- @tparam table parts {model = m [, opt = opt] [, loader = loader] [, name = value ...]}
-- @usage cnn.savecheckpoint("run.safetensors", {model = m, opt = opt, loader = loader, step = 100})
-- @function savecheckpoint
local function savecheckpoint(path, parts)
  checkpoint.check_path("savecheckpoint", path)
  local targets = check_objects("savecheckpoint", parts)
  local tensors, meta = {}, {format = FORMAT, model = tostring(parts.model)}
  for i, t in ipairs(targets) do tensors["model." .. i] = t end
  if parts.opt ~= nil then
    optimiser_part.save("savecheckpoint", parts.opt, models.params(parts.model), tensors, meta)
  end
  local seed, counter = core.rngstate()
  meta["rng.seed"], meta["rng.counter"] = values.encode(seed), values.encode(counter)
  if parts.loader ~= nil then loader_part.save(parts.loader, tensors, meta) end
  for k, v in pairs(user_values(parts)) do meta["user." .. k] = values.encode(v) end
  local ok, e = pcall(core.save_safetensors, path, tensors, meta)
  if not ok then errors.raise(checkpoint.renamed("savecheckpoint", e)) end
end

-- Whether the file holds the part `name` ("opt", "loader") exactly when
-- the caller gave one.
local function check_presence(entries, name, given, what)
  local held = entries:has(name) or entries:has(name .. ".passes")
  if held and not given then
    errors.raise(("loadcheckpoint: %s holds %s; pass it as %s"):format(entries.path, what, name))
  end
  if given and not held then
    errors.raise(("loadcheckpoint: %s holds no %s, but %s was given"):format(entries.path, what, name))
  end
  return held
end

-- The file's entries, read whole by the strict reader.
local function read(path)
  local ok, tensors, meta = pcall(core.load_safetensors, path)
  if not ok then errors.raise(checkpoint.renamed("loadcheckpoint", tensors)) end
  if meta.format ~= FORMAT then
    errors.raise(("loadcheckpoint: %s is not a checkpoint (its format is %s; cnn.loadmodel reads "
      .. "a model's state)"):format(path, meta.format and ("%q"):format(meta.format) or "not given"))
  end
  return entries_of.new("loadcheckpoint", path, tensors, meta)
end

--- Reads a checkpoint written by `savecheckpoint` into the objects
-- given, which must be those it was saved from (same architecture,
-- optimiser kind, loader over the same data and settings): every entry
-- is checked, naming it, before anything changes. Restores the model,
-- the optimiser's hyperparameters and state, the random generator and
-- the loader's position (its next loop continues the saved pass).
-- @param path the file to read
-- @tparam table parts {model = m [, opt = opt] [, loader = loader]}
-- @treturn table the other fields that were saved ({step = 100})
-- @usage local saved = cnn.loadcheckpoint("run.safetensors", {model = m, opt = opt, loader = loader})
-- @function loadcheckpoint
local function loadcheckpoint(path, parts)
  checkpoint.check_path("loadcheckpoint", path)
  local targets = check_objects("loadcheckpoint", parts)
  for k in pairs(parts) do
    if not objects[k] then
      errors.raise(("loadcheckpoint: unknown field %s (valid fields: loader, model, opt)"):format(
        argcheck.describe(k)))
    end
  end
  local entries = read(path)
  local saved = {}
  for i, t in ipairs(targets) do saved[i] = entries:tensor("model." .. i, t) end
  local restore_opt, restore_loader
  if check_presence(entries, "opt", parts.opt ~= nil, "an optimiser's state") then
    restore_opt = optimiser_part.check(entries, parts.opt, models.params(parts.model))
  end
  if check_presence(entries, "loader", parts.loader ~= nil, "a loader's position") then
    restore_loader = loader_part.check(entries, parts.loader)
  end
  local seed, counter = entries:value("rng.seed"), entries:value("rng.counter")
  for name, v in pairs{["rng.seed"] = seed, ["rng.counter"] = counter} do
    if math.type(v) ~= "integer" then entries:fail(name, "is not an integer") end
  end
  local user = {}
  for _, found in ipairs(entries:matching("^user%.")) do
    user[found[1]:sub(6)] = entries:value(found[1])
  end
  entries:finish()
  for i, t in ipairs(targets) do t:copy(saved[i]) end
  if restore_opt then restore_opt() end
  core.setrngstate(seed, counter)
  if restore_loader then restore_loader() end
  return user
end

-- savecheckpoint and loadcheckpoint are public; check_objects is for
-- cnn.callbacks.checkpointer.
return {savecheckpoint = savecheckpoint, loadcheckpoint = loadcheckpoint, check_objects = check_objects}
