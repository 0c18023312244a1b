-- luacheck configuration: `luacheck lua spec examples` must report nothing.
std = "lua54"
max_line_length = 120

-- The specs run under busted, which defines describe, it, assert and the rest.
files["spec"] = {std = "+busted"}

-- Scripts run by the cnnlua host find the library as the global `cnn`.
files["examples"] = {read_globals = {"cnn"}}

-- Methods such as Flatten:describe() need no state, yet keep the method form.
self = false

-- train's progress specs capture what is written by replacing io.stdout.
files["spec/train_spec.lua"] = {globals = {io = {fields = {"stdout"}}}}

-- cnn.plot's spec captures what it prints by replacing io.stdout.
files["spec/plot_spec.lua"] = {globals = {io = {fields = {"stdout"}}}}
