// cxx.cc - C++ leaks known by construction: an array, a string and its buffer; an exception
// thrown and caught, a vector grown and destroyed, and iostream output (none of them leak).
// Leaked: 40 + 32 + 101 = 173 bytes in 3 blocks.
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

__attribute__((noinline)) static int *leak_array() {
    return new int[10]; /* LEAK: cxx_array */
}

__attribute__((noinline)) static std::string *leak_string() {
    return new std::string(100, 'x'); /* LEAK: cxx_string */
}

static int churn() {
    std::vector<int> v;
    for (int i = 0; i < 1000; i++) {
        v.push_back(i);
    }
    try {
        throw std::runtime_error("thrown and caught");
    } catch (const std::exception &e) {
        return (int)v.size() + (int)std::string(e.what()).size();
    }
}

int main() {
    int *a = leak_array();
    std::string *s = leak_string();
    std::cout << "cxx " << churn() << " " << (a != nullptr) << " " << s->size() << std::endl;
    return 0;
}
