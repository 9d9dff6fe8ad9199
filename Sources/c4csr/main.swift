import C4CSRCommands

await C4CSR.start()
