# Embed a file in the binary: cmake -DIN=FILE -DOUT=FILE.c -DNAME=symbol -P embed.cmake
# writes `const char NAME[]` holding FILE's bytes and a terminating NUL, and
# `const unsigned long NAME_len` (the byte count without the NUL).
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE ${OUT} "/* generated from ${IN} by cmake/embed.cmake */\n"
     "extern const char ${NAME}[];\nextern const unsigned long ${NAME}_len;\n"
     "const char ${NAME}[] = {\n${bytes}0x00};\n"
     "const unsigned long ${NAME}_len = ${len};\n")
