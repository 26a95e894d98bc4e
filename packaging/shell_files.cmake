# cmake -DBORA=<bora binary> -P shell_files.cmake: writes bora(1) as bora.1.gz and the completions bora.bash
# and _bora into the current directory (packaging/CMakeLists.txt runs it after each link of bora).
execute_process(COMMAND ${BORA} man OUTPUT_FILE bora.1 COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND gzip -9nf bora.1 COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${BORA} completion bash OUTPUT_FILE bora.bash COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${BORA} completion zsh OUTPUT_FILE _bora COMMAND_ERROR_IS_FATAL ANY)
